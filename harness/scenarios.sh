#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every QEMU scenario on one kernel.
#   scenarios.sh <bzImage> <tag> [extra kernel args]
. "$(dirname "$0")/env.sh"
kernel=$1 tag=$2
shift 2
R=$B/results
H=$top/harness
"$H/run-scenario.sh" "$kernel" default "$R/scenario-$tag-default" "$@"
"$H/run-scenario.sh" "$kernel" removal "$R/scenario-$tag-removal" "$@"
"$H/run-scenario.sh" "$kernel" boot-override "$R/scenario-$tag-boot-override" \
	p2pmem.override=0000:01:00.0=host "$@"
"$H/run-scenario.sh" "$kernel" dma "$R/scenario-$tag-dma" "$@"
SCENARIO_QEMU_ARGS="-device intel-iommu" \
	"$H/run-scenario.sh" "$kernel" dma "$R/scenario-$tag-dma-iommu" "$@"
exit 0
