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
[ "$tag" = debug ] && export SCENARIO_KMEMLEAK=1
st=0
"$H/run-scenario.sh" "$kernel" default "$R/scenario-$tag-default" "$@" || st=1
"$H/run-scenario.sh" "$kernel" removal "$R/scenario-$tag-removal" "$@" || st=1
"$H/run-scenario.sh" "$kernel" boot-override "$R/scenario-$tag-boot-override" \
	"p2pmem.override=$switch_upstream_port=host" "$@" || st=1
"$H/run-scenario.sh" "$kernel" dma "$R/scenario-$tag-dma" "$@" || st=1
SCENARIO_IOMMU=yes \
	"$H/run-scenario.sh" "$kernel" dma "$R/scenario-$tag-dma-iommu" "$@" || st=1
exit $st
