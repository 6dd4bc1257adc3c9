#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel in QEMU with the default topology and run one scenario.
#   run-scenario.sh <bzImage> <scenario> <result-file> [kernel args...]
# Prints every check, fails any kernel splat (BUG, WARNING, KASAN,
# lockdep, kmemleak), and writes "passed failed skipped" to <result-file>.
set -uo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/topology-default.sh"
kernel=$1 scenario=$2 result=$3
shift 3
mkdir -p "$B/logs"
logf=$B/logs/$(basename "$result").log
tmo=${SCENARIO_TIMEOUT:-180}
timeout "$tmo" qemu-system-x86_64 -nographic -nodefaults -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$B/initramfs.cpio.gz" \
	-append "console=ttyS0 loglevel=5 panic=-1 p2pmem_scenario=$scenario $*" \
	"${qemu_topology[@]}" ${SCENARIO_QEMU_ARGS:-} < /dev/null > "$logf" 2>&1
rc=$?
tr -d '\r' < "$logf" > "$logf.txt"
pass=$(grep -c '^ok ' "$logf.txt")
fail=$(grep -c '^not ok ' "$logf.txt")
grep -E '^(ok|not ok|#) ' "$logf.txt" | sed "s/^/  $scenario: /"
if ! grep -q '^P2PMEM-SCENARIO-END' "$logf.txt"; then
	echo "  $scenario: not ok: scenario did not complete (qemu rc $rc, log $logf)"
	fail=$((fail + 1))
fi
splat=$(grep -E 'BUG:|WARNING:|KASAN|circular locking|lock held|inconsistent lock|Kernel panic|general protection' "$logf.txt" | head -5)
if [ -n "$splat" ]; then
	echo "  $scenario: not ok: kernel splat (log $logf):"
	echo "$splat" | sed 's/^/    /'
	fail=$((fail + 1))
else
	echo "  $scenario: ok: no kernel splat"
	pass=$((pass + 1))
fi
if grep -q '^P2PMEM-KMEMLEAK-SCANNED' "$logf.txt"; then
	if grep -q 'unreferenced object' "$logf.txt"; then
		echo "  $scenario: not ok: kmemleak found leaks (log $logf)"
		fail=$((fail + 1))
	else
		echo "  $scenario: ok: kmemleak scan found no leaks"
		pass=$((pass + 1))
	fi
fi
echo "$pass $fail 0" > "$result"
[ "$fail" = 0 ]
