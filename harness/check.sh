#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: every test of the series. Each step prints what it does and
# roughly how long it takes; the last line sums every KUnit case, QEMU
# scenario check and static check: "N passed, N failed, N skipped".
set -uo pipefail
. "$(dirname "$0")/env.sh"
H=$top/harness
SRC=$B/linux-source-6.1
R=$B/results
rm -rf "$R"
mkdir -p "$R" "$B/logs"
t0=$(date +%s)

record() {	# record NAME PASSED FAILED SKIPPED
	echo "$2 $3 $4" > "$R/$1"
}
fatal_step() {	# a step everything else needs failed
	record "$1" 0 1 0
	log "$1 failed; stopping"
	"$H/summary.sh" "$R"
	exit 1
}

log "check: preparing the patched tree"
"$H/prepare-tree.sh" "$SRC" || fatal_step tree

log "check: scenario kernel"
if "$H/build-kernel.sh" "$SRC" "$B/obj-scenario" "$H/configs/scenario.config"; then
	cp "$B/obj-scenario/arch/x86/boot/bzImage" "$B/bzImage"
	record build-scenario 1 0 0
else
	fatal_step build-scenario
fi
"$H/mkinitramfs.sh" "$B/initramfs.cpio.gz" || fatal_step initramfs

log "check: QEMU scenarios on build/bzImage (about 1 minute)"
"$H/scenarios.sh" "$B/bzImage" normal

log "check: KUnit on q35 via kunit.py (build: about 7 minutes cold; runs: under a minute each)"
"$H/kunit.sh"

log "check: debug kernel with KASAN, lockdep, kmemleak, DEBUG_VM (about 9 minutes cold, then 3 minutes of runs)"
if "$H/build-kernel.sh" "$SRC" "$B/obj-debug" "$H/configs/scenario.config" "$H/configs/debug.config"; then
	record build-debug 1 0 0
	"$H/kunit.sh" debug
	SCENARIO_TIMEOUT=400 "$H/scenarios.sh" "$B/obj-debug/arch/x86/boot/bzImage" debug kunit.filter_glob=none
else
	record build-debug 0 1 0
fi

log "check: exported series applies with git am and builds (about 4 minutes)"
"$H/series-check.sh"

log "check: static checks (checkpatch, sparse, W=1, coccicheck, kernel-doc, P2PMEM=n; about 4 minutes)"
"$H/static-checks.sh"

log "check: done in $(( ($(date +%s) - t0) / 60 )) min"
"$H/summary.sh" "$R"
