#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the two guests of the NVMe-oF scenario on one kernel and judge
# each: A runs fabrics-target.sh on the default topology, B runs
# fabrics-host.sh with no NVMe of its own. Their only link is a QEMU
# socket netdev (UDP on the host's loopback, ports picked free).
#   run-fabrics.sh <bzImage> <result-prefix> [kernel args...]
# Writes <result-prefix>-target and <result-prefix>-host, as
# run-scenario.sh does for one guest. SCENARIO_KMEMLEAK=1 as there.
set -uo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/topology-default.sh"
kernel=$1 prefix=$2
shift 2
tmo=${SCENARIO_TIMEOUT:-300}
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
read -r pa pb < <(python3 -c '
import socket
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))') || fail_both "no free UDP ports"
leak=()
[ "${SCENARIO_KMEMLEAK:-0}" = 1 ] && leak=(--kmemleak)

guest() {	# guest NAME LOCAL REMOTE MAC [QEMU args...]
	local name=$1 lport=$2 rport=$3 mac=$4
	shift 4
	timeout "$tmo" qemu-system-x86_64 -nographic -nodefaults -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$B/initramfs.cpio.gz" \
		-append "console=ttyS0 loglevel=5 panic=-1 p2pmem_scenario=$name p2pmem_expect_iommu=0 $extra_args" \
		-netdev socket,id=fab,udp=127.0.0.1:$rport,localaddr=127.0.0.1:$lport \
		-device virtio-net-pci,netdev=fab,mac=$mac,addr=0x8 \
		"$@" < /dev/null > "$B/logs/$(basename "$prefix")-$name.log" 2>&1
}
extra_args="$*"
guest fabrics-target "$pa" "$pb" 52:54:00:0f:ab:01 "${qemu_topology[@]}" &
ta=$!
guest fabrics-host "$pb" "$pa" 52:54:00:0f:ab:02 -machine q35 -smp 2 -m 512M &
tb=$!
wait $ta
ra=$?
wait $tb
rb=$?
st=0
for g in target:$ra host:$rb; do
	side=${g%%:*} rc=${g#*:}
	logf=$B/logs/$(basename "$prefix")-fabrics-$side.log
	tr -d '\r' < "$logf" > "$logf.txt"
	[ "$rc" = 0 ] || echo "  fabrics-$side: qemu exited with status $rc (124: timeout after $tmo s); log $logf.txt"
	python3 "$top/harness/results.py" scenario "fabrics-$side" "$logf.txt" "$prefix-$side" "${leak[@]}" || st=1
done
exit $st
