#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the cost of dma_map_sg() + dma_unmap_sg() through p2pmem's
# DMA shim, against the operations the shim stacks on and against the
# base's own P2PDMA (upstream's design, where each DMA backend maps P2PDMA
# pages itself). Not part of make check.
#
#   bench.sh      env: BENCH_CLOCK (icount, the default: QEMU -icount
#                 shift=0, so a guest nanosecond is one guest instruction and
#                 the figures do not depend on the host's load; wall: TCG in
#                 real time), BENCH_ITERS (loops of a 1-entry sgl, default
#                 20000; an n-entry sgl runs BENCH_ITERS/n times), BENCH_BOOTS
#                 (boots of each kernel and backend, best taken; default 1
#                 for icount, 2 for wall), BENCH_TIMEOUT (seconds per QEMU
#                 run, default 900), BENCH_PARTS (a comma-separated list of
#                 dma, copy and fabrics, the three benchmarks below; default
#                 all three)
#
# Builds two kernels: the series with CONFIG_PCI_P2PMEM_BENCH
# (build/obj-bench) and the pristine base with CONFIG_PCI_P2PDMA
# (build/linux-source-6.1-base, build/obj-bench-p2pdma) plus the baseline
# module tools/testing/selftests/drivers/pci/p2pmem/bench/p2pdma_bench.c.
# Boots each on q35 (TCG) twice, on dma-direct and with -device
# intel-iommu, and prints one table of the results. Logs: build/logs/bench-*.
#
# Then the copy benchmark: make check's scenario kernel on its default
# topology (build/obj-scenario) runs copy-bench.sh of the scenarios (p2pmem-copy through the CMB
# and through host memory, every copy checked), on dma-direct and under
# intel-iommu, and a second table gives throughput, CPU time per MiB and
# host-memory bytes mapped per MiB, as p2p/host ratios. Logs:
# build/logs/copy-bench-*.
#
# Then the NVMe-oF benchmark: the same kernel boots the fabrics pair
# (harness/run-fabrics.sh with fabrics-bench-target.sh and
# fabrics-bench-host.sh): the host writes and reads back over TCP a
# namespace with p2pmem and one without, on the same backing NVMe, and a
# third table gives, per MiB moved, the target's CPU time and the host
# memory its backing NVMe mapped for the payload. Logs:
# build/logs/fabrics-bench-*.
set -euo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/base.env"
SRC=$B/linux-source-6.1
BASE=$B/linux-source-6.1-base
W=$B/bench
OBJ=$B/obj-bench
OBJ_BASE=$B/obj-bench-p2pdma
MOD_SRC=$top/tools/testing/selftests/drivers/pci/p2pmem/bench
iters=${BENCH_ITERS:-20000}
clock=${BENCH_CLOCK:-icount}
case $clock in
icount) accel=(-icount shift=0) boots=${BENCH_BOOTS:-1} ;;
wall) accel=() boots=${BENCH_BOOTS:-2} ;;
*) echo "bench: BENCH_CLOCK must be icount or wall" >&2; exit 1 ;;
esac
tmo=${BENCH_TIMEOUT:-900}
parts=${BENCH_PARTS:-dma,copy,fabrics}
for p in ${parts//,/ }; do
	case $p in
	dma | copy | fabrics) ;;
	*) echo "bench: BENCH_PARTS is a list of dma, copy and fabrics, not '$p'" >&2; exit 1 ;;
	esac
done
start=$(date +%s)
mkdir -p "$W" "$B/logs"

# pcie.0 - ioh3420 - x3130 switch - ivshmem-plain, 64 MiB BAR 2 (provider)
#                                 - NVMe, no CMB (client)
bench_topology=(
	-smp 1 -m 1G
	-device ioh3420,id=rp1,bus=pcie.0,chassis=1,slot=1
	-device x3130-upstream,id=up1,bus=rp1
	-device xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=0
	-device xio3130-downstream,id=dn2,bus=up1,chassis=2,slot=1
	-object memory-backend-ram,id=m0,size=64M
	-device ivshmem-plain,memdev=m0,bus=dn1
	-blockdev driver=null-co,node-name=nb1,size=67108864
	-device nvme,serial=bench,drive=nb1,bus=dn2
)
# Their PCI addresses in the guest: rp1 gets bus 1, the upstream port bus
# 2, the downstream ports buses 3 and 4 (bench-guest.sh prints what it
# found; the baseline module finds the same pair).
bench_provider=0000:03:00.0
bench_client=0000:04:00.0

dma_bench() {
log "bench: two kernels to build (cold: about 6 minutes each on 2 cores," \
	"seconds when nothing changed), then $((4 * boots)) QEMU runs (TCG)"

# The series' kernel, with the benchmark built in.
"$top/harness/build-kernel.sh" "$SRC" "$OBJ" \
	"$top/harness/configs/scenario.config" "$top/harness/configs/bench.config"

# The baseline: the base as packaged, without the series.
have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || echo unknown)
if [ ! -f "$BASE/.p2pmem-base-$have" ]; then
	log "bench: extracting $BASE_PKG $have into $BASE (about 10 s, once)"
	rm -rf "$BASE"
	mkdir -p "$BASE"
	tar xf "$BASE_TARBALL" -C "$BASE" --strip-components=1
	touch "$BASE/.p2pmem-base-$have"
fi
# scenario.config without the symbols only the series has.
grep -v '^CONFIG_PCI_P2PMEM' "$top/harness/configs/scenario.config" > "$W/scenario-base.config.new"
cmp -s "$W/scenario-base.config.new" "$W/scenario-base.config" ||
	mv "$W/scenario-base.config.new" "$W/scenario-base.config"
rm -f "$W/scenario-base.config.new"
"$top/harness/build-kernel.sh" "$BASE" "$OBJ_BASE" \
	"$W/scenario-base.config" "$top/harness/configs/bench-p2pdma.config"

log "bench: baseline module p2pdma_bench.ko"
mkdir -p "$W/p2pdma_bench"
for f in Kbuild p2pdma_bench.c; do
	cmp -s "$MOD_SRC/$f" "$W/p2pdma_bench/$f" || cp "$MOD_SRC/$f" "$W/p2pdma_bench/$f"
done
# "modules" writes the Module.symvers that external modules link against.
if ! { "${KMAKE[@]}" -C "$BASE" O="$OBJ_BASE" modules &&
       "${KMAKE[@]}" -C "$BASE" O="$OBJ_BASE" M="$W/p2pdma_bench" modules; } \
       > "$B/logs/bench-module.log" 2>&1; then
	tail -30 "$B/logs/bench-module.log" >&2
	echo "bench: baseline module build failed (log $B/logs/bench-module.log)" >&2
	exit 1
fi
grep -E 'warning:' "$B/logs/bench-module.log" | head -10 || true

# One initramfs for both kernels: /bench.sh picks the benchmark it finds.
log "bench: initramfs"
bb=/bin/busybox
[ -x "$bb" ] || { echo "bench: $bb missing; install busybox-static" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp}
cp "$bb" "$tmp/bin/busybox"
ln -s busybox "$tmp/bin/sh"
cp "$top/harness/bench-guest.sh" "$tmp/bench.sh"
cp "$W/p2pdma_bench/p2pdma_bench.ko" "$tmp/"
cat > "$tmp/init" <<'EOI'
#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
echo "BENCH-BEGIN"
sh /bench.sh
poweroff -f
EOI
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet) | gzip -1 > "$W/initramfs.cpio.gz"

# run <name> <bzImage> <backend>: boot, bench, collect "<backend> <line>".
: > "$W/results.txt"
run() {
	local name=$1 kernel=$2 backend=$3 logf=$B/logs/bench-$1.log t st
	local iommu=() ov=
	# Under intel-iommu in a VM, p2pmem does not trust QEMU's switch for
	# the bus address route (see the guide): the benchmark measures the
	# cost of mapping, not the DMA, so it forces the pair's route. The
	# base kernel ignores the parameter.
	[ "$backend" = iommu ] && iommu=(-device intel-iommu) &&
		ov="p2pmem.override=$bench_provider,$bench_client=bus"
	log "bench: $name (TCG: about 10 s with the default BENCH_ITERS; timeout $tmo s)"
	t=$(date +%s)
	st=0
	timeout "$tmo" qemu-system-x86_64 -nographic -nodefaults -serial stdio \
		-no-reboot -machine q35 "${accel[@]}" "${iommu[@]}" "${bench_topology[@]}" \
		-kernel "$kernel" -initrd "$W/initramfs.cpio.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 bench_iters=$iters $ov" \
		< /dev/null > "$logf" 2>&1 || st=$?
	tr -d '\r' < "$logf" > "$logf.txt"
	grep -E '^(# |BENCH-DEVICES)' "$logf.txt" | sed "s/^/  $name: /" || true
	if ! grep -q "^BENCH-DEVICES provider=$bench_provider client=$bench_client " "$logf.txt"; then
		echo "  $name: the guest's devices are not $bench_provider and $bench_client" >&2
		failed=$((failed + 1))
	fi
	if ! grep -q '^BENCH-END rc=0' "$logf.txt"; then
		echo "  $name: FAILED (qemu rc $st, log $logf.txt):" >&2
		grep -E 'p2pmem|p2pdma|BENCH|Kernel panic' "$logf.txt" | tail -10 | sed 's/^/    /' >&2
		failed=$((failed + 1))
	fi
	if grep -E 'BUG:|WARNING:|KASAN|Kernel panic|general protection' "$logf.txt" | head -5 | sed "s/^/  $name: splat: /" | grep .; then
		failed=$((failed + 1))
	fi
	grep -E '^(p2pmem|p2pdma) [a-z-]+ (host|p2p|half) [0-9]+ [0-9.]+$' "$logf.txt" |
		sed "s/^/$backend /" >> "$W/results.txt" || true
	log "bench: $name done in $(( $(date +%s) - t )) s"
}
# The boots take turns, so that a slow spell of the host spoils one of each.
for k in $(seq "$boots"); do
	run "p2pmem-direct-$k" "$OBJ/arch/x86/boot/bzImage" direct
	run "p2pmem-iommu-$k" "$OBJ/arch/x86/boot/bzImage" iommu
	run "p2pdma-direct-$k" "$OBJ_BASE/arch/x86/boot/bzImage" direct
	run "p2pdma-iommu-$k" "$OBJ_BASE/arch/x86/boot/bzImage" iommu
done

echo
echo "dma_map_sg + dma_unmap_sg of PAGE_SIZE entries, DMA_TO_DEVICE, guest ns per pair"
if [ "$clock" = icount ]; then
	echo "(best of 7 runs; QEMU TCG with -icount shift=0: a guest ns is one guest"
	echo " instruction, so these are instruction counts, reproducible and independent"
	echo " of the host; cache misses and mispredictions are not seen)"
else
	echo "(best of 7 runs in each of $boots boots; QEMU TCG in real time: emulation"
	echo " costs, sensitive to code layout, and a busy host adds noise)"
fi
awk '
function r(a, b) { return (a == "" || b == "" || b == 0) ? "" : a / b }
function cell(x) { return x == "" ? "-" : sprintf("%.2f", x) }
function ratio(x, t) {
	if (x == "")
		return sprintf("%-13s", "-")
	if (t == "")
		return sprintf("%-13s", sprintf("%.3f", x))
	if (x <= t + 0) { met++; return sprintf("%-13s", sprintf("%.3f met", x)) }
	notmet++
	return sprintf("%-13s", sprintf("%.3f NOT met", x))
}
{
	# <backend> <p2pmem|p2pdma> <path> <kind> <nents> <ns>
	path = $2 == "p2pdma" ? "p2pdma" : $3
	if (!(($1, path, $4, $5) in v) || $6 + 0 < v[$1, path, $4, $5])
		v[$1, path, $4, $5] = $6 + 0
	seen = 1
}
END {
	if (!seen) { print "no results"; exit 1 }
	printf "%-7s %-4s %5s | %9s %9s %-13s %-7s | %9s %-13s | %9s %9s %-13s\n",
		"backend", "kind", "nents", "shim", "orig", "shim/orig", "shim/np",
		"p2pdma", "shim/p2pdma", "noprov-api", "direct", "api/direct"
	split("direct iommu", bs, " "); split("host p2p half", ks, " ")
	split("1 16 256", ns, " ")
	for (bi = 1; bi <= 2; bi++) for (ki = 1; ki <= 3; ki++) for (ni = 1; ni <= 3; ni++) {
		b = bs[bi]; k = ks[ki]; n = ns[ni]
		shim = v[b, "shim", k, n]; orig = v[b, "orig", k, n]
		p = v[b, "p2pdma", k, n]
		api = v[b, "noprov-api", k, n]; dir = v[b, "noprov-direct", k, n]
		np = r(shim, api)
		printf "%-7s %-4s %5s | %9s %9s %s %-7s | %9s %s | %9s %9s %s\n",
			b, k, n, cell(shim), cell(orig),
			ratio(r(shim, orig), k == "host" ? 1.03 : ""),
			np == "" ? "-" : sprintf("%.3f", np),
			cell(p), ratio(r(shim, p), k == "host" ? "" : 0.8),
			cell(api), cell(dir),
			ratio(r(api, dir), k == "host" ? 1.03 : "")
	}
	print ""
	print "targets: shim/orig <= 1.03 (host pages: the shim costs nothing for them);"
	print "         shim/p2pdma <= 0.80 (p2p and half: faster than the in-backend design);"
	print "         api/direct <= 1.03 (no provider: no measurable cost in the DMA API)."
	print "shim, noprov-api and p2pdma go through dma_map_sg(); orig and direct call"
	print "the original dma_map_ops of the device directly, so shim/orig and api/direct"
	print "also count the call layers of the DMA API itself, as in any kernel. shim/np ="
	print "shim / noprov-api, both through the API, before and after the provider"
	print "exists (no target). With no provider the p2pmem guard is a patched-out jump"
	print "(CONFIG_JUMP_LABEL). direct = dma-direct, iommu = intel-iommu (lazy)."
	print "half = host, p2p, host, p2p, ... (with one entry: one host page)."
	printf "targets met: %d, not met: %d\n", met, notmet
}' "$W/results.txt" | tee "$W/table.txt" || failed=$((failed + 1))
}

copy_bench() {
# The copy benchmark: make check's scenario kernel on the default topology,
# the scenario initramfs, copy-bench.sh of the scenarios (judged like any
# scenario: every copy's data is checked), on dma-direct and under
# intel-iommu with the pair overridden to the host bridge route.
log "bench: copy benchmark: make check's scenario kernel and initramfs," \
	"then 2 QEMU runs (TCG in real time: about 2 minutes each)"
"$top/harness/build-kernel.sh" "$SRC" "$B/obj-scenario" \
	"$top/harness/configs/scenario.config"
"$top/harness/mkinitramfs.sh" "$B/initramfs.cpio.gz"
. "$top/harness/topology-default.sh"
: > "$W/copy-results.txt"
copy_run() {
	local backend=$1 res=$W/copy-bench-$1 p f s
	shift
	log "bench: copy-bench-$backend"
	SCENARIO_TIMEOUT=$tmo "$top/harness/run-scenario.sh" "$B/obj-scenario/arch/x86/boot/bzImage" \
		copy-bench "$res" "$@" || true
	read -r p f s < "$res" 2>/dev/null || f=1
	if [ "${f:-1}" != 0 ] || [ "${p:-0}" = 0 ]; then
		echo "  copy-bench-$backend: FAILED (log $B/logs/copy-bench-$backend.log.txt)" >&2
		failed=$((failed + 1))
	fi
	sed -n "s/^# copy-bench /$backend /p" "$B/logs/copy-bench-$backend.log.txt" \
		>> "$W/copy-results.txt"
}
copy_run direct
SCENARIO_IOMMU=yes copy_run iommu "p2pmem.override=$cmb_nvme,$plain_nvme=host"

echo
echo "p2pmem-copy of 32 MiB, O_DIRECT, 128 KiB chunks, 4 threads: NVMe $plain_nvme ->"
echo "buffer -> NVMe $cmb_nvme, the buffer in $cmb_nvme's CMB (p2p) or in host memory"
echo "(host); best of 3 rounds each, taking turns; QEMU TCG in real time, so only"
echo "the ratios mean anything"
awk '
function best(a, b, lower) { return a == "" ? b : (lower ? (b < a ? b : a) : (b > a ? b : a)) }
{
	# <backend> <route> <round> <mib> <s> <proc cpu s> <guest cpu s> <host bytes>
	k = $1 SUBSEP $2
	if ($5 <= 0 || $4 <= 0) next
	tp[k] = best(tp[k], $4 / $5, 0)
	pc[k] = best(pc[k], $6 * 1000 / $4, 1)
	gc[k] = best(gc[k], $7 * 1000 / $4, 1)
	hb[k] = best(hb[k], $8 / $4, 0)
	seen[$1] = 1
}
END {
	printf "%-7s %-5s | %8s %13s %14s %16s\n", "backend", "route", "MiB/s",
		"proc ms/MiB", "guest ms/MiB", "host bytes/MiB"
	n = split("direct iommu", bs, " ")
	for (i = 1; i <= n; i++) {
		b = bs[i]
		if (!(b in seen)) { printf "%-7s no results\n", b; bad = 1; continue }
		for (j = 0; j < 2; j++) {
			r = j ? "host" : "p2p"; k = b SUBSEP r
			printf "%-7s %-5s | %8.2f %13.2f %14.2f %16d\n", b, r,
				tp[k], pc[k], gc[k], hb[k]
		}
		p = b SUBSEP "p2p"; h = b SUBSEP "host"
		printf "%-7s p2p/host: throughput %.3f, proc CPU per MiB %.3f, guest CPU per MiB %.3f\n",
			b, tp[h] ? tp[p] / tp[h] : 0, pc[h] ? pc[p] / pc[h] : 0,
			gc[h] ? gc[p] / gc[h] : 0
		if (hb[p] != 0) { printf "%-7s p2p path mapped host memory for the payload: NOT met\n", b; bad = 1 }
	}
	print ""
	print "host bytes/MiB: host memory the two NVMes mapped for DMA during the copy, per"
	print "MiB copied (their \"host\" counters in /sys/kernel/debug/p2pmem/clients; the"
	print "most of the 3 rounds); target 0 on the p2p path. proc = the copying process"
	print "(user + system), guest = all busy CPU time of the guest (/proc/stat)."
	exit bad
}' "$W/copy-results.txt" | tee "$W/copy-table.txt"
[ "${PIPESTATUS[0]}" = 0 ] || failed=$((failed + 1))
}
fabrics_bench() {
# The NVMe-oF benchmark: make check's scenario kernel, the fabrics pair.
log "bench: NVMe-oF benchmark: make check's scenario kernel and initramfs," \
	"then one pair of QEMU guests (TCG in real time: about 2 minutes)"
"$top/harness/build-kernel.sh" "$SRC" "$B/obj-scenario" \
	"$top/harness/configs/scenario.config"
"$top/harness/mkinitramfs.sh" "$B/initramfs.cpio.gz"
local res p f s side tr ok=1
: > "$W/fabrics-results.txt"
for tr in tcp rdma; do
	res=$W/fabrics-bench-$tr
	log "bench: fabrics-bench over NVMe/$tr"
	FABRICS_SCENARIO=fabrics-bench FABRICS_TRANSPORT=$tr SCENARIO_TIMEOUT=$tmo \
		"$top/harness/run-fabrics.sh" "$B/obj-scenario/arch/x86/boot/bzImage" "$res" || true
	for side in target host; do
		read -r p f s < "$res-$side" 2>/dev/null || f=1
		if [ "${f:-1}" != 0 ] || [ "${p:-0}" = 0 ]; then
			echo "  fabrics-bench-$tr-$side: FAILED (log $B/logs/fabrics-bench-$tr-fabrics-bench-$side.log.txt)" >&2
			ok=0
		fi
	done
	sed -n "s/^# fabrics-bench /$tr /p" "$B/logs/fabrics-bench-$tr-fabrics-bench-target.log.txt" \
		>> "$W/fabrics-results.txt"
done
[ $ok = 1 ] || failed=$((failed + 1))
echo
echo "NVMe-oF between two guests, over TCP and over RDMA on soft RoCE (rxe): the"
echo "host writes MIB MiB with O_DIRECT (128 KiB"
echo "requests) and reads it back, to a namespace with p2pmem=auto (the target's"
echo "buffers in the CMB beside the backing NVMe) and to one with p2pmem=0 on the"
echo "same NVMe; best of 3 rounds each, taking turns; QEMU TCG in real time"
awk '
function best(a, b, lower) { return a == "" ? b : (lower ? (b < a ? b : a) : (b > a ? b : a)) }
{
	# <transport> <kind> <round> <mib> <s> <target cpu s> <host bytes> <p2p reqs> <fallback reqs>
	k = $1 SUBSEP $2; moved = 2 * $4
	if ($5 <= 0 || $4 <= 0) next
	tp[k] = best(tp[k], moved / $5, 0)
	cpu[k] = best(cpu[k], $6 * 1000 / moved, 1)
	hb[k] = best(hb[k], $7 / moved, 0)
	pr[k] += $8; fr[k] += $9; seen[k] = 1
}
END {
	printf "%-4s %-4s | %8s %19s %16s %10s %13s\n", "tr", "ns", "MiB/s",
		"target CPU ms/MiB", "host bytes/MiB", "p2p reqs", "fallback reqs"
	n = split("tcp rdma", trs, " ")
	for (i = 1; i <= n; i++) {
		t = trs[i]
		for (j = 0; j < 2; j++) {
			k = t SUBSEP (j ? "host" : "p2p")
			if (!(k in seen)) { printf "%-4s %-4s no results\n", t, j ? "host" : "p2p"; bad = 1; continue }
			printf "%-4s %-4s | %8.2f %19.2f %16d %10d %13d\n", t, j ? "host" : "p2p",
				tp[k], cpu[k], hb[k], pr[k], fr[k]
		}
		p = t SUBSEP "p2p"; h = t SUBSEP "host"
		if ((p in seen) && (h in seen))
			printf "%-4s p2p/host: throughput %.3f, target CPU per MiB %.3f\n", t,
				tp[h] ? tp[p] / tp[h] : 0, cpu[h] ? cpu[p] / cpu[h] : 0
		if (hb[p] != 0 || fr[p] != 0) { printf "%-4s p2pmem namespace mapped host memory for the payload: NOT met\n", t; bad = 1 }
		if ((p in seen) && pr[p] == 0) { printf "%-4s p2pmem namespace had no request in p2pmem: NOT met\n", t; bad = 1 }
	}
	print ""
	print "MiB moved = written + read. target CPU = all busy CPU time of the target guest"
	print "(/proc/stat: nvmet-tcp workers, softirqs, completions); host bytes = host"
	print "memory the backing NVMe mapped for DMA (its \"host\" counter), the most of the"
	print "3 rounds; target 0 for p2pmem. Reqs: p2pmem_stat, all rounds."
	exit bad
}' "$W/fabrics-results.txt" | tee "$W/fabrics-table.txt"
[ "${PIPESTATUS[0]}" = 0 ] || failed=$((failed + 1))
}
failed=0
case ,$parts, in *,dma,*) dma_bench ;; esac
case ,$parts, in *,copy,*) copy_bench ;; esac
case ,$parts, in *,fabrics,*) fabrics_bench ;; esac
echo
log "bench: done in $(( $(date +%s) - start )) s (tables in $W)"
[ "$failed" = 0 ] || { echo "bench: $failed run(s) failed, see above" >&2; exit 1; }
