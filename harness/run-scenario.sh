#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel in QEMU and run one scenario of
# tools/testing/selftests/drivers/pci/p2pmem/ in it.
#   run-scenario.sh <bzImage> <scenario> <result-file> [kernel args...]
# Environment:
#   SCENARIO_IOMMU=yes     add -device intel-iommu; the guest is told to
#                          expect it (p2pmem_expect_iommu=1) and the dma
#                          scenario proves it; default no (and proves that)
#   SCENARIO_TOPOLOGY=kunit  boot the KUnit topology instead of the
#                          default one (harness/topology-default.sh)
#   SCENARIO_KMEMLEAK=1    the kernel has kmemleak: the guest scans it
#                          after the scenario and any report fails
#   SCENARIO_QMP=yes       give QEMU a QMP socket that harness/qmp-relay.py
#                          serves to the guest (P2PMEM-QMP lines on its
#                          console), with native PCIe hotplug (pciehp)
#   SCENARIO_TIMEOUT       seconds before QEMU is killed (default 180)
# harness/results.py judges the console against harness/expected-results
# and writes "passed failed skipped" to <result-file>.
set -uo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/topology-default.sh"
kernel=$1 scenario=$2 result=$3
shift 3
mkdir -p "$B/logs"
logf=$B/logs/$(basename "$result").log
tmo=${SCENARIO_TIMEOUT:-180}
command -v qemu-system-x86_64 > /dev/null ||
	{ echo "run-scenario: qemu-system-x86_64 missing" >&2; echo "0 1 0" > "$result"; exit 1; }
[ -f "$kernel" ] || { echo "run-scenario: no kernel $kernel" >&2; echo "0 1 0" > "$result"; exit 1; }

new_disk_dir || { echo "run-scenario: cannot make the NVMe disk files" >&2; echo "0 1 0" > "$result"; exit 1; }
trap 'rm -rf "$disk_dir"' EXIT
default_topology
topo=("${qemu_topology[@]}")
if [ "${SCENARIO_TOPOLOGY:-default}" = kunit ]; then
	mapfile -t topo < <(python3 "$top/harness/kunit-qemu-args.py" "$B/linux-source-6.1" \
		tools/testing/kunit/qemu_configs/x86_64_p2pmem.py)
	[ ${#topo[@]} -gt 4 ] || { echo "run-scenario: no KUnit topology" >&2; echo "0 1 0" > "$result"; exit 1; }
	topo+=(-m 1G)
fi
extra=()
expect=0
if [ "${SCENARIO_IOMMU:-no}" = yes ]; then
	extra=(-device intel-iommu)
	expect=1
fi
leak=()
[ "${SCENARIO_KMEMLEAK:-0}" = 1 ] && leak=(--kmemleak)
relay=
if [ "${SCENARIO_QMP:-no}" = yes ]; then
	sock_dir=$(mktemp -d "${TMPDIR:-/tmp}/qmp.XXXXXX") ||
		{ echo "run-scenario: no QMP socket directory" >&2; echo "0 1 0" > "$result"; exit 1; }
	trap 'rm -rf "$disk_dir" "$sock_dir"' EXIT
	# ACPI hotplug off: the guest's pciehp handles the slots.
	extra+=(-qmp "unix:$sock_dir/qmp,server=on,wait=off"
		-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off)
	: > "$logf"
	python3 "$top/harness/qmp-relay.py" "$sock_dir/qmp" "$logf" > "$logf.qmp" 2>&1 &
	relay=$!
fi

t0=$SECONDS
timeout "$tmo" qemu-system-x86_64 -nographic -nodefaults -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$B/initramfs.cpio.gz" \
	-append "console=ttyS0 loglevel=5 panic=-1 p2pmem_scenario=$scenario p2pmem_expect_iommu=$expect $*" \
	"${topo[@]}" "${extra[@]}" < /dev/null > "$logf" 2>&1
rc=$?
if [ -n "$relay" ]; then
	wait "$relay"
	sed 's/^/  /' "$logf.qmp"
fi
tr -d '\r' < "$logf" > "$logf.txt"
[ $rc = 0 ] || echo "  $scenario: qemu exited with status $rc (124: timeout after $tmo s); log $logf.txt"
echo "  $scenario: $((SECONDS - t0)) s of its $tmo s"
console_tail "$logf.txt"
python3 "$top/harness/results.py" scenario "$scenario" "$logf.txt" "$result" "${leak[@]}"
