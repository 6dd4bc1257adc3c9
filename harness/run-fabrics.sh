#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the two guests of the NVMe-oF scenario on one kernel and judge
# each: A runs fabrics-target.sh on the default topology, B runs
# fabrics-host.sh with no NVMe of its own. Their only link is a QEMU
# stream netdev on a unix socket in a directory of this run's own
# (lossless, unlike UDP, which soft RoCE's retransmit timers make very
# slow; and no TCP port to pick, which two pairs started at once could
# both be given): the target's QEMU listens, the host's connects.
#   run-fabrics.sh <bzImage> <result-prefix> [kernel args...]
# Writes <result-prefix>-target and <result-prefix>-host, as
# run-scenario.sh does for one guest. SCENARIO_KMEMLEAK=1 as there.
# FABRICS_SCENARIO=NAME runs NAME-target.sh and NAME-host.sh instead
# (fabrics-bench for make bench); FABRICS_TRANSPORT=rdma runs it over
# NVMe/RDMA on soft RoCE (rxe) instead of TCP; SCENARIO_TIMEOUT (default
# 600 s: a pair takes 180-220 s with three other guests on two cores, and
# a slower machine must not turn that into a failure).
set -uo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/topology-default.sh"
kernel=$1 prefix=$2
shift 2
pair=${FABRICS_SCENARIO:-fabrics}
tmo=${SCENARIO_TIMEOUT:-600}
mkdir -p "$B/logs"
fail_both() {
	echo "run-fabrics: $*" >&2
	echo "0 1 0" > "$prefix-target"
	echo "0 1 0" > "$prefix-host"
	exit 1
}
command -v qemu-system-x86_64 > /dev/null || fail_both "qemu-system-x86_64 missing"
[ -f "$kernel" ] || fail_both "no kernel $kernel"
new_disk_dir || fail_both "cannot make the NVMe disk files"
trap 'rm -rf "$disk_dir"' EXIT
default_topology
sock_dir=$(mktemp -d "${TMPDIR:-/tmp}/fabrics.XXXXXX") || fail_both "no socket directory"
trap 'rm -rf "$disk_dir" "$sock_dir"' EXIT
sock=$sock_dir/link
# QEMU splits its options at commas, a unix socket's path holds 107 bytes,
# and listening() compares one awk field: refuse what would break these.
case $sock in *[!A-Za-z0-9_./-]*) fail_both "unusable socket path $sock (set TMPDIR)" ;; esac
[ ${#sock} -le 107 ] || fail_both "socket path too long: $sock (set TMPDIR)"
listening() {	# does a socket listen on $sock (flag __SO_ACCEPTCON)?
	awk -v p="$sock" '$8 == p && $4 == "00010000" { f = 1 } END { exit !f }' /proc/net/unix
}
leak=()
[ "${SCENARIO_KMEMLEAK:-0}" = 1 ] && leak=(--kmemleak)

# Run in the background only: exec makes $! timeout's pid, so a kill of it
# reaches QEMU (timeout runs in a process group of its own).
guest() {	# guest NAME NETDEV-ARGS MAC [QEMU args...]
	local name=$1 net=$2 mac=$3
	shift 3
	exec timeout "$tmo" qemu-system-x86_64 -nographic -nodefaults -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$B/initramfs.cpio.gz" \
		-append "console=ttyS0 loglevel=5 panic=-1 p2pmem_scenario=$name p2pmem_expect_iommu=0 $extra_args" \
		-netdev "stream,id=fab,addr.type=unix,addr.path=$sock,$net" \
		-device virtio-net-pci,netdev=fab,mac=$mac,addr=0x8 \
		"$@" < /dev/null > "$B/logs/$(basename "$prefix")-$name.log" 2>&1
}
extra_args="fabrics_transport=${FABRICS_TRANSPORT:-tcp} $*"
t0=$SECONDS
guest "$pair-target" server=on 52:54:00:0f:ab:01 "${qemu_topology[@]}" &
ta=$!
# The host's QEMU connects once: wait until the target's listens.
tlog=$B/logs/$(basename "$prefix")-$pair-target.log
i=0
until listening; do
	i=$((i + 1))
	kill -0 $ta 2> /dev/null ||
		{ console_tail "$tlog"; fail_both "the target's QEMU ended before it listened"; }
	[ $i -ge 300 ] &&
		{ kill $ta 2> /dev/null; console_tail "$tlog"; fail_both "the target's QEMU does not listen on $sock after 30 s"; }
	sleep 0.1
done
guest "$pair-host" server=off 52:54:00:0f:ab:02 -machine q35 -smp 2 -m 512M &
tb=$!
wait $ta
ra=$?
# A target that failed leaves the host nothing to connect to: stop it.
[ $ra = 0 ] || kill $tb 2> /dev/null
wait $tb
rb=$?
echo "  $pair: $((SECONDS - t0)) s of its $tmo s (both guests)"
st=0
for g in target:$ra host:$rb; do
	side=${g%%:*} rc=${g#*:}
	logf=$B/logs/$(basename "$prefix")-$pair-$side.log
	tr -d '\r' < "$logf" > "$logf.txt"
	[ "$rc" = 0 ] || echo "  $pair-$side: qemu exited with status $rc (124: timeout after $tmo s; 143: stopped, its target had failed); log $logf.txt"
	console_tail "$logf.txt"
	python3 "$top/harness/results.py" scenario "$pair-$side" "$logf.txt" "$prefix-$side" "${leak[@]}" || st=1
done
exit $st
