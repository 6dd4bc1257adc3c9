#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: every test of the series. Each step prints what it does and
# roughly how long it takes. harness/results.py judges every run against
# harness/expected-results; the summary has one line per result, the time
# of each step, and last "N passed, N failed, N skipped". A step that
# did not run counts as failed.
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
step() {	# step NAME COMMAND...: run it, note its duration
	local s=$(date +%s) rc
	"${@:2}"
	rc=$?
	echo "$1 $(( $(date +%s) - s ))" >> "$R/durations"
	return $rc
}
finish() {
	log "check: done in $(( ($(date +%s) - t0) / 60 )) min"
	python3 "$H/results.py" summary "$R"
	exit $?
}
fatal_step() {	# a step everything else needs failed
	record "$1" 0 1 0
	log "$1 failed; stopping"
	finish
}

log "check: harness self-test: results.py against runs that went wrong (seconds)"
step harness-selftest "$H/results-selftest.sh" "$R/harness-selftest"

log "check: base and patched tree (under a minute; the first time also installs the base)"
step tree "$H/prepare-tree.sh" "$SRC" || fatal_step tree

# Every test runs on the debug kernel (KASAN, lockdep, kmemleak,
# DEBUG_VM): its config is the scenario kernel's plus the debug options,
# so it builds every file the scenario kernel does. The scenario kernel
# itself (make kernel, make demo, make mutants, make bench) is not built
# here: its build, KUnit and scenarios took 15 of the 63 minutes.
log "check: debug kernel with KASAN, lockdep, kmemleak, DEBUG_VM and the KUnit suites (cold: about 15 minutes)"
if step build-debug "$H/build-kernel.sh" "$SRC" "$B/obj-debug" "$H/configs/scenario.config" "$H/configs/debug.config"; then
	record build-debug 1 0 0
else
	fatal_step build-debug
fi
"$H/mkinitramfs.sh" "$B/initramfs.cpio.gz" || fatal_step initramfs

log "check: KUnit on the debug kernel: kunit.py exec, and two boots with kmemleak (about 4 minutes)"
step kunit "$H/kunit.sh" debug

log "check: QEMU scenarios on the debug kernel, two guests at a time (about 13 minutes)"
step scenarios-debug env SCENARIO_TIMEOUT=400 "$H/scenarios.sh" "$B/obj-debug/arch/x86/boot/bzImage" debug

log "check: exported series applies with git am, and every prefix builds (about 14 minutes)"
step series "$H/series-check.sh"

log "check: static checks (checkpatch, sparse, W=1, coccicheck, kernel-doc, P2PMEM=n; about 4 minutes)"
step static "$H/static-checks.sh"

finish
