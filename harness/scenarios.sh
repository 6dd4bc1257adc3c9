#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every QEMU scenario on one kernel.
#   scenarios.sh <bzImage> <tag> [extra kernel args]
# With tag "debug" the kernel has kmemleak, and every scenario scans it.
# SCENARIO_JOBS guests (default: one per host core) boot at a time; each
# has its own disks, console log and result file, and a guest's output is
# printed when it ends.
. "$(dirname "$0")/env.sh"
. "$top/harness/topology-default.sh"
kernel=$1 tag=$2
shift 2
R=$B/results
H=$top/harness
# KASAN under TCG is slow enough for early boot (ACPI parsing) to pass
# the default 21 s RCU stall timeout on a loaded host: give it 60 s.
[ "$tag" = debug ] && export SCENARIO_KMEMLEAK=1 &&
	set -- "$@" rcupdate.rcu_cpu_stall_timeout=60
jobs=${SCENARIO_JOBS:-$JOBS}
out=$(mktemp -d "${TMPDIR:-/tmp}/scenarios.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
names=()

reap() {	# print and forget the first guest that has ended
	local n
	for n in "${!running[@]}"; do
		[ -f "$out/$n.rc" ] || continue
		cat "$out/$n.out"
		unset "running[$n]"
		return 0
	done
	return 1
}
declare -A running
sc() {	# sc NAME SCENARIO [VAR=VALUE...] -- [kernel args]: boot one guest
	local name=$1 scenario=$2 envs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	while [ ${#running[@]} -ge "$jobs" ]; do
		reap || wait -n 2> /dev/null || sleep 1
	done
	log "scenario $name"
	names+=("$name")
	running[$name]=1
	( env "${envs[@]}" "$H/run-scenario.sh" "$kernel" "$scenario" \
		"$R/scenario-$tag-$name" "$@" > "$out/$name.out" 2>&1
	  echo $? > "$out/$name.rc" ) &
}
# fabrics NAME TRANSPORT: the NVMe-oF pair, two guests, one job; 600 s
# (harness/run-fabrics.sh says why), or the caller's timeout if longer.
fabrics_tmo=$(( ${SCENARIO_TIMEOUT:-0} > 600 ? SCENARIO_TIMEOUT : 600 ))
fabrics() {
	local name=$1 transport=$2
	shift 2
	while [ ${#running[@]} -ge "$jobs" ]; do
		reap || wait -n 2> /dev/null || sleep 1
	done
	log "scenario $name (two guests: target and host, NVMe/$transport)"
	names+=("$name")
	running[$name]=1
	( FABRICS_TRANSPORT=$transport SCENARIO_TIMEOUT=$fabrics_tmo "$H/run-fabrics.sh" "$kernel" \
		"$R/scenario-$tag-$name" "$@" > "$out/$name.out" 2>&1
	  echo $? > "$out/$name.rc" ) &
}

# Under intel-iommu QEMU's switch cannot route peer-to-peer at bus
# addresses: the copy and user scenarios go through the host bridge, by
# an override of the pair (so the NVMe on the other root port stays
# refused). The longest guests start first.
host_pair="p2pmem.override=$cmb_nvme,$plain_nvme=host"
fabrics fabrics tcp "$@"
fabrics fabrics-rdma rdma "$@"
sc hotplug hotplug SCENARIO_QMP=yes -- "$@"
# The sweeps fail hundreds of page allocations, each dumping a stack: a
# 4 MiB log buffer keeps the fail_p2pmem lines they count from rotating
# out of the default 128 KiB one.
# Its sweeps on the debug kernel take most of the default 400 s on a slow
# or loaded machine: give it 900.
sc faults faults SCENARIO_TOPOLOGY=kunit SCENARIO_TIMEOUT=900 -- log_buf_len=4M "$@"
sc copy copy -- "$@"
sc copy-iommu copy SCENARIO_IOMMU=yes -- "$host_pair" "$@"
sc user user -- "$@"
sc user-iommu user SCENARIO_IOMMU=yes -- "$host_pair" "$@"
sc default default -- "$@"
sc bad-input bad-input -- "$@"
# nvme-pci maps the copy's data with SGLs by default (QEMU's NVMe has them
# and the segments are large); sgl_threshold=0 makes it use PRPs, and its
# one-segment commands dma_map_page() of p2pmem.
sc copy-prp copy -- nvme.sgl_threshold=0 "$@"
sc removal removal -- "$@"
sc boot-override boot-override -- "p2pmem.override=$switch_upstream_port=host" "$@"
sc dma dma -- "$@"
sc dma-iommu dma SCENARIO_IOMMU=yes -- "$@"
sc verify verify -- "$@"
sc verify-iommu verify SCENARIO_IOMMU=yes -- "$@"
wait
while [ ${#running[@]} -gt 0 ]; do reap || break; done

st=0
for n in "${names[@]}"; do
	[ "$(cat "$out/$n.rc" 2> /dev/null)" = 0 ] ||
		{ echo "  scenario $n: run-scenario.sh failed (status $(cat "$out/$n.rc" 2> /dev/null || echo none))"; st=1; }
done
exit $st
