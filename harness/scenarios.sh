#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every QEMU scenario on one kernel.
#   scenarios.sh <bzImage> <tag> [extra kernel args]
# With tag "debug" the kernel has kmemleak, and every scenario scans it.
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
st=0
"$H/run-scenario.sh" "$kernel" default "$R/scenario-$tag-default" "$@" || st=1
"$H/run-scenario.sh" "$kernel" removal "$R/scenario-$tag-removal" "$@" || st=1
"$H/run-scenario.sh" "$kernel" boot-override "$R/scenario-$tag-boot-override" \
	"p2pmem.override=$switch_upstream_port=host" "$@" || st=1
"$H/run-scenario.sh" "$kernel" dma "$R/scenario-$tag-dma" "$@" || st=1
SCENARIO_IOMMU=yes \
	"$H/run-scenario.sh" "$kernel" dma "$R/scenario-$tag-dma-iommu" "$@" || st=1
"$H/run-scenario.sh" "$kernel" copy "$R/scenario-$tag-copy" "$@" || st=1
# nvme-pci maps the copy's data with SGLs by default (QEMU's NVMe has them
# and the segments are large); sgl_threshold=0 makes it use PRPs. The
# debug kernel runs the same scenario with SGLs only.
if [ "$tag" = normal ]; then
	"$H/run-scenario.sh" "$kernel" copy "$R/scenario-$tag-copy-prp" \
		nvme.sgl_threshold=0 "$@" || st=1
fi
# Under intel-iommu QEMU's switch cannot route peer-to-peer at bus
# addresses: the copy goes through the host bridge, by an override of the
# pair (so the NVMe on the other root port stays refused).
SCENARIO_IOMMU=yes \
	"$H/run-scenario.sh" "$kernel" copy "$R/scenario-$tag-copy-iommu" \
	"p2pmem.override=$cmb_nvme,$plain_nvme=host" "$@" || st=1
"$H/run-scenario.sh" "$kernel" user "$R/scenario-$tag-user" "$@" || st=1
"$H/run-scenario.sh" "$kernel" verify "$R/scenario-$tag-verify" "$@" || st=1
SCENARIO_IOMMU=yes \
	"$H/run-scenario.sh" "$kernel" verify "$R/scenario-$tag-verify-iommu" "$@" || st=1
SCENARIO_IOMMU=yes \
	"$H/run-scenario.sh" "$kernel" user "$R/scenario-$tag-user-iommu" \
	"p2pmem.override=$cmb_nvme,$plain_nvme=host" "$@" || st=1
exit $st
