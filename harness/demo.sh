#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot build/bzImage on the default topology and show p2pmem.
set -uo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/topology-default.sh"
new_disk_dir || { echo "demo: cannot make the NVMe disk files" >&2; exit 1; }
trap 'rm -rf "$disk_dir"' EXIT
default_topology
log "demo: booting build/bzImage in QEMU (TCG, about 15 seconds)"
timeout 180 qemu-system-x86_64 -nographic -nodefaults -serial stdio -no-reboot \
	-kernel "$B/bzImage" -initrd "$B/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 p2pmem_scenario=demo" \
	"${qemu_topology[@]}" < /dev/null 2>&1 | tr -d '\r' |
	sed -n '/P2PMEM-SCENARIO-BEGIN/,/^P2PMEM-SCENARIO-END/p' | sed '1d;$d' | grep -v '^1\.\.'
