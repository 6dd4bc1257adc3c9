#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of harness/results.py: feed it runs that went wrong in every
# way the harness must catch, and require that each one fails (and that
# a good run passes). One counted check per case.
#   results-selftest.sh <result-file>
set -uo pipefail
. "$(dirname "$0")/env.sh"
out=$1
rp=$top/harness/results.py
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
pass=0 fail=0
export P2PMEM_EXPECTED=$t/manifest
cat > "$P2PMEM_EXPECTED" <<'EOM'
step s-one
step s-two
kunit suite_a 2
kunit suite_b 1
scenario demo 3
skip run-skip suite_b.case_b1 allowed for the self-test
known-lockdep demo known_fn
EOM

expect() {	# expect pass|fail DESCRIPTION COMMAND...
	local want=$1 desc=$2 got
	shift 2
	if "$@" > "$t/out" 2>&1; then got=pass; else got=fail; fi
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1)); echo "  harness-selftest: ok: $desc ($want)"
	else
		fail=$((fail + 1)); echo "  harness-selftest: not ok: $desc: wanted $want, got $got"
		sed 's/^/    /' "$t/out" | head -20
	fi
}
scen() {	# scen NAME FLAGS... < console: judge a fake scenario console
	cat > "$t/console"
	python3 "$rp" scenario demo "$t/console" "$t/r" "$@"
}
good='P2PMEM-SCENARIO-BEGIN demo
ok 1 first
ok 2 second
ok 3 third
1..3
P2PMEM-SCENARIO-END rc=0'

expect pass "a complete scenario" scen <<< "$good"
expect pass "a BEGIN line after firmware escapes" scen <<< "$(printf '\033[2J%s' "$good")"
expect fail "a failed check" scen <<< "${good/ok 2/not ok 2}"
expect fail "no plan line" scen <<< "${good/1..3/}"
expect fail "a plan other than the manifest's" scen <<< "${good/1..3/1..2}"
expect fail "a not ok line broken by console output" scen <<< "${good/ok 2 second/[ 1.0] nvme: msgnot ok 2 second}"
expect fail "a result line lost" scen <<< "${good/ok 2 second/}"
expect fail "a check reported twice" scen <<< "${good/ok 3 third/ok 2 second
ok 3 third}"
expect fail "no END: the guest died half way" scen <<< "${good/P2PMEM-SCENARIO-END rc=0/}"
expect fail "END with rc=1" scen <<< "${good/rc=0/rc=1}"
expect fail "a scenario that never started" scen <<< "Kernel panic - not syncing: VFS"
lockdep() {	# lockdep FUNCTION: a circular-dependency report of locks taken there
	printf '%s\n' '======' 'WARNING: possible circular locking dependency detected' \
		'6.1.0 #1 Not tainted' '------' 'x/1 is trying to acquire lock:' \
		"ffff (&a){.+.+}-{3:3}, at: $1+0x1/0x2" '' 'but task is already holding lock:' \
		"ffff (&b){+.+.}-{3:3}, at: $1+0x3/0x4" 'Call Trace:' ' <TASK>' ' </TASK>'
}
expect pass "a lockdep report the manifest knows" scen <<< "${good/ok 3 third/$(lockdep known_fn)
ok 3 third}"
expect fail "a lockdep report the manifest does not know" scen <<< "${good/ok 3 third/$(lockdep other_fn)
ok 3 third}"
expect fail "a known lockdep report followed by another splat" scen <<< "${good/ok 3 third/$(lockdep known_fn)
BUG: KASAN: use-after-free in f+0x1
ok 3 third}"
for splat in "BUG: unable to handle page fault" "WARNING: CPU: 0 PID: 1 at x.c:1" \
	"BUG: KASAN: use-after-free in f+0x1" "kernel BUG at mm/slub.c:1!" \
	"invalid opcode: 0000 [#1] SMP" "divide error: 0000 [#1] SMP" \
	"stack segment: 0000 [#1] SMP" "general protection fault, probably" \
	"INFO: task sh:1 blocked for more than 120 seconds." \
	"rcu: INFO: rcu_sched detected stalls on CPUs/tasks:" \
	"Call Trace:" "UBSAN: shift-out-of-bounds in x.c:1:2" \
	"WARNING: possible circular locking dependency detected" \
	"watchdog: BUG: soft lockup - CPU#0 stuck for 22s!"; do
	expect fail "splat: $splat" scen <<< "${good/ok 2 second/ok 2 second
$splat}"
done
expect fail "kmemleak wanted but never scanned" scen --kmemleak <<< "$good"
expect fail "kmemleak reports a leak" scen --kmemleak <<< "$good
P2PMEM-KMEMLEAK-SCANNED
unreferenced object 0xffff888001 (size 64):"
expect pass "kmemleak scanned, clean" scen --kmemleak <<< "$good
P2PMEM-KMEMLEAK-SCANNED"

# KUnit: kunit.py --json output, console, exit status.
case_() { printf '{"name": "%s", "status": "%s"}' "$1" "$2"; }
json() {	# json STATUS_A1 STATUS_A2 STATUS_B1 [extra suite]
	printf '{"name": "KUnit Test Group", "test_cases": [], "sub_groups": [
	{"name": "suite_a", "sub_groups": [], "test_cases": [%s, %s]},
	{"name": "suite_b", "sub_groups": [], "test_cases": [%s]}%s]}' \
	"$(case_ case_a1 "$1")" "$(case_ case_a2 "$2")" "$(case_ case_b1 "$3")" "${4:-}" > "$t/j"
}
con_iommu='pci 0000:01:00.0: [1b36:0010] type 00 class 0x010802
DMAR: Intel(R) Virtualization Technology for Directed I/O
pci 0000:01:00.0: Adding to iommu group 1'
con_plain='pci 0000:01:00.0: [1b36:0010] type 00 class 0x010802'
ku() {	# ku RUN RC CONSOLE [--iommu yes|no]
	echo "$3" > "$t/c"
	python3 "$rp" kunit "$1" "$t/j" "$t/c" "$2" "$t/r" "${@:4}"
}
json PASS PASS PASS
expect pass "a complete KUnit run" ku run 0 "$con_plain" --iommu no
expect fail "kunit.py exited non-zero" ku run 1 "$con_plain"
expect pass "IOMMU expected and shown" ku run 0 "$con_iommu" --iommu yes
expect fail "IOMMU expected, none on the console" ku run 0 "$con_plain" --iommu yes
expect fail "IOMMU on where none may be" ku run 0 "$con_iommu" --iommu no
expect fail "IOMMU on, a client without a group" ku run 0 \
	"$con_iommu"$'\n''pci 0000:02:00.0: [1b36:0010] type 00 class 0x010802' --iommu yes
expect fail "a KUnit splat on the console" ku run 0 "$con_plain"$'\n''BUG: KASAN: slab-out-of-bounds'
json PASS FAIL PASS
expect fail "a failed case" ku run 0 "$con_plain"
json PASS ERROR PASS
expect fail "a crashed case" ku run 0 "$con_plain"
json PASS PASS SKIP
expect fail "a skip the manifest does not allow" ku run 0 "$con_plain"
expect pass "a skip the manifest allows for that run" ku run-skip 0 "$con_plain"
printf '{"name": "KUnit Test Group", "test_cases": [], "sub_groups": [
{"name": "suite_a", "sub_groups": [], "test_cases": [%s]},
{"name": "suite_b", "sub_groups": [], "test_cases": [%s]}]}' \
	"$(case_ case_a1 PASS)" "$(case_ case_b1 PASS)" > "$t/j"
expect fail "fewer cases than the manifest lists" ku run 0 "$con_plain"
printf '{"name": "KUnit Test Group", "test_cases": [], "sub_groups": [
{"name": "suite_a", "sub_groups": [], "test_cases": [%s, %s]}]}' \
	"$(case_ case_a1 PASS)" "$(case_ case_a2 PASS)" > "$t/j"
expect fail "a suite that did not run" ku run 0 "$con_plain"
json PASS PASS PASS ', {"name": "suite_c", "sub_groups": [], "test_cases": []}'
expect fail "a suite the manifest does not know" ku run 0 "$con_plain"
echo 'not json' > "$t/j"
expect fail "no KTAP, no results" ku run 0 "$con_plain"
rm -f "$t/j"
expect fail "no results file" ku run 0 "$con_plain"

# Summary: every step of the manifest must have a result.
mkdir -p "$t/res"
echo "3 0 0" > "$t/res/s-one"
echo "2 0 0" > "$t/res/s-two"
expect pass "a summary with every step" python3 "$rp" summary "$t/res"
echo "1 1 0" > "$t/res/s-two"
expect fail "a summary with a failure" python3 "$rp" summary "$t/res"
rm "$t/res/s-two"
expect fail "a summary with a step missing" python3 "$rp" summary "$t/res"
echo "2 0 0" > "$t/res/s-two"
echo "5 0 0" > "$t/res/s-extra"
expect fail "a summary with a result the manifest does not know" python3 "$rp" summary "$t/res"

echo "$pass $fail 0" > "$out"
echo "  harness-selftest: $pass passed, $fail failed"
[ $fail = 0 ]
