#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the busybox initramfs the QEMU scenarios boot into.
#   mkinitramfs.sh <output.cpio.gz>
# /init mounts the usual filesystems, runs /scenario/run.sh with the
# scenario named on the kernel command line (p2pmem_scenario=NAME) and
# powers the machine off.
set -euo pipefail
. "$(dirname "$0")/env.sh"
out=$(realpath -m "$1")
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkinitramfs: $bb missing; install busybox-static" >&2; exit 1; }
file "$bb" 2>/dev/null | grep -q 'statically linked' || ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
	{ echo "mkinitramfs: $bb is not static; install busybox-static" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,scenario}
cp "$bb" "$tmp/bin/busybox"
ln -s busybox "$tmp/bin/sh"
cat > "$tmp/init" <<'EOI'
#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t configfs configfs /sys/kernel/config
mount -t tmpfs tmpfs /tmp
scenario=$(sed -n 's/.*p2pmem_scenario=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "P2PMEM-SCENARIO-BEGIN $scenario"
sh /scenario/run.sh "$scenario"
echo "P2PMEM-SCENARIO-END rc=$?"
if [ -e /sys/kernel/debug/kmemleak ]; then
	# kmemleak reports no object younger than 5 s, and only one found
	# unreferenced, unchanged, by two scans in a row: wait past the
	# minimum age, then scan twice.
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	echo "P2PMEM-KMEMLEAK-SCANNED"
	cat /sys/kernel/debug/kmemleak
fi
poweroff -f
EOI
chmod +x "$tmp/init"
cp "$top"/tools/testing/selftests/drivers/pci/p2pmem/*.sh "$tmp/scenario/"
# The userspace tools and the C scenario tests, static (the guest has only
# busybox), built by the patched tree's own makefiles.
SRC=$B/linux-source-6.1
[ -f "$SRC/tools/p2pmem/p2pmem-copy.c" ] ||
	{ echo "mkinitramfs: no patched tree in $SRC (make tree)" >&2; exit 1; }
make -s -C "$SRC/tools" p2pmem LDFLAGS=-static ||
	{ echo "mkinitramfs: building tools/p2pmem failed" >&2; exit 1; }
# OUTPUT: lib.mk only sets it for a top-level make, and make check is not.
make -s -C "$SRC/tools/testing/selftests/drivers/pci/p2pmem" LDFLAGS=-static \
	OUTPUT="$SRC/tools/testing/selftests/drivers/pci/p2pmem" ||
	{ echo "mkinitramfs: building the p2pmem selftests failed" >&2; exit 1; }
cp "$SRC/tools/p2pmem/p2pmem-copy" "$SRC/tools/p2pmem/p2pmem-verify" "$tmp/bin/"
cp "$SRC/tools/testing/selftests/drivers/pci/p2pmem/p2pmem_mmap_test" \
   "$SRC/tools/testing/selftests/drivers/pci/p2pmem/p2pmem_hold" \
   "$SRC/tools/testing/selftests/drivers/pci/p2pmem/p2pmem_bad_user" \
   "$SRC/tools/testing/selftests/drivers/pci/p2pmem/p2pmem_fault" "$tmp/scenario/"
# nvme-cli for the NVMe-oF host guest (fabrics-host.sh) and iproute2's
# rdma for soft RoCE, with the shared libraries and loader they need, as
# Debian builds them.
for tool in nvme:nvme-cli rdma:iproute2; do
	bin=$(command -v "${tool%%:*}" || true)
	[ -n "$bin" ] || { echo "mkinitramfs: ${tool%%:*} missing; install ${tool#*:}" >&2; exit 1; }
	mkdir -p "$tmp/usr/sbin"
	cp "$bin" "$tmp/usr/sbin/"
	libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
	[ -n "$libs" ] || { echo "mkinitramfs: ldd found no libraries of $bin" >&2; exit 1; }
	for l in $libs; do
		[ -e "$tmp$l" ] && continue
		mkdir -p "$tmp$(dirname "$l")"
		cp -L "$l" "$tmp$l"
	done
done
(cd "$tmp" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
