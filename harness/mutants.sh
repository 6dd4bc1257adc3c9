#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make mutants: mutation testing of the test suite. Each patch in
# harness/mutants/ puts one deliberate bug into the overlay; the tests of
# kernel behaviour (KUnit, then the QEMU scenarios) must catch every one.
#
#   mutants.sh                 the pristine tree, then every mutant
#   MUTANTS="03 11" mutants.sh only these mutants (by number), no baseline
#   MUTANTS_ALL_STEPS=1        run every step even after one caught it
#   MUTANTS_BASELINE=0|1       skip or force the run of the pristine tree
#   MUTANTS_TIMEOUT=SECONDS    limit of one step (default 420; a passing step
#                              takes a minute or two); a step that times out
#                              (a hung test) counts as having caught the mutant
#
# Every mutant runs in one scratch copy of the repository (build/mutants/
# tree, its own build/ sharing build/ccache), reset to the current files of
# the repository (committed or not) before the mutant is applied, so only
# the mutated files are rebuilt. A mutant that does not apply or build is
# an error of the mutant, not a catch. Exits non-zero if any mutant is
# missed or broken. Logs: build/mutants/logs/.
set -uo pipefail
. "$(dirname "$0")/env.sh"
M=$B/mutants
tree=$M/tree
TB=$tree/build
L=$M/logs
tmo=${MUTANTS_TIMEOUT:-420}
t0=$(date +%s)

mkdir -p "$B/ccache" "$TB" "$L"
[ -e "$TB/ccache" ] || ln -s "$(realpath "$B/ccache")" "$TB/ccache"

# Mutants to run: every patch, or those numbered in $MUTANTS.
mutants=()
for p in "$top"/harness/mutants/[0-9]*.patch; do
	[ -f "$p" ] || continue
	id=$(basename "$p" .patch)
	if [ -n "${MUTANTS:-}" ]; then
		for want in $MUTANTS; do
			[ "${id%%-*}" = "$want" ] || [ "$id" = "$want" ] && mutants+=("$id")
		done
	else
		mutants+=("$id")
	fi
done
if [ ${#mutants[@]} = 0 ]; then
	echo "mutants: no mutant matches '${MUTANTS:-}' in harness/mutants/" >&2
	exit 1
fi
baseline=${MUTANTS_BASELINE:-$([ -n "${MUTANTS:-}" ] && echo 0 || echo 1)}

# The scratch tree gets the repository's files as they are now.
reset_tree() {
	find "$tree" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
	(cd "$top" && git ls-files -z -c -o --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
		tar xf - -C "$tree"
}

# The first failing KUnit case of a kunit.py log, as suite.case.
kunit_first_failure() {	# LOG
	awk '/^\[[0-9:]+\] =+ [^ ]+ \([0-9]+ subtests?\) =+$/ { suite = $3 }
	     /^\[[0-9:]+\] +\[(FAILED|CRASHED)\] / {
		n = $3; st = $2; gsub(/[\[\]]/, "", st)
		print (suite != "" && n != suite ? suite "." : "") n (st == "CRASHED" ? " (crashed)" : "")
		exit }' "$1"
}

# Where a step that timed out hung: the last test it started or passed.
last_case() {
	local log last
	log=$(ls -t "$TB"/logs/kunit-*.log "$TB"/logs/scenario-*.log 2>/dev/null | head -1)
	[ -n "$log" ] || return
	case $log in
	*kunit-*) last=$(awk '/^\[[0-9:]+\] =+ [^ ]+ \([0-9]+ subtests?\) =+$/ { s = $3 }
		/^\[[0-9:]+\] +\[[A-Z]+\] / { c = $3 }
		END { if (s != "") print s (c != "" ? ", after " c : "") }' "$log") ;;
	*) last=$(tr -d '\r' < "$log" | grep -E '^(not )?ok [0-9]+ ' | tail -1) ;;
	esac
	[ -z "$last" ] || echo " (in $(basename "$log" .log): $last)"
}

# What a step caught, from the result files it wrote (oldest first) and
# the logs of the tests; empty when it caught nothing.
caught_by() {	# STEP RC STEP-LOG
	local step=$1 rc=$2 out=$3 r name f what="" log
	for r in $(ls -tr "$TB/results" 2>/dev/null); do
		f=$(cut -d' ' -f2 "$TB/results/$r")
		[ "${f:-0}" != 0 ] || continue
		case $r in
		kunit-*)
			for log in $(ls -tr "$TB"/logs/kunit-*.log 2>/dev/null); do
				what=$(kunit_first_failure "$log")
				[ -n "$what" ] && break
			done
			;;
		scenario-*)
			log=$TB/logs/$r.log.txt
			what=$(grep -m1 '^not ok ' "$log" 2>/dev/null | sed 's/^not ok [0-9]* //')
			;;
		esac
		# A splat, a run that did not finish, a missing summary.
		[ -n "$what" ] || what=$(grep -m1 -E '(not ok|kernel splat|no summary)' "$out" |
			sed -e 's/^ *//' -e 's/:$//')
		echo "$r: ${what:-$f failed}"
		return
	done
	if [ "$rc" = 124 ]; then
		echo "$step: timed out after $tmo s$(last_case)"
	elif [ "$rc" != 0 ]; then
		echo "$step: exit status $rc"
	fi
}

# Run one step in the scratch tree; prints what caught the mutant, if any.
run_step() {	# TAG STEP COMMAND...
	local tag=$1 step=$2 rc pid
	shift 2
	rm -rf "$TB/results" "$TB"/logs/kunit-* "$TB"/logs/scenario-*
	mkdir -p "$TB/results" "$TB/logs"
	# timeout puts the step in a process group of its own: stop that
	# group too when this script is stopped.
	(cd "$tree" && exec timeout "$tmo" "$@") > "$L/$tag-$step.log" 2>&1 &
	pid=$!
	trap 'kill -- -$pid 2>/dev/null; exit 1' TERM INT HUP
	wait $pid
	rc=$?
	trap - TERM INT HUP
	caught_by "$step" "$rc" "$L/$tag-$step.log"
}

# Apply, build and test one mutant (or the pristine tree for "00-pristine").
# Sets verdict to "CAUGHT step: case", "MISSED", "APPLY-ERROR" or
# "BUILD-ERROR", and passed to the steps that found nothing.
run_mutant() {	# ID
	local id=$1 c step
	verdict="" passed=""
	reset_tree
	if [ "$id" != 00-pristine ] &&
	   ! patch -p1 -s -N -d "$tree" < "$top/harness/mutants/$id.patch" > "$L/$id-apply.log" 2>&1; then
		verdict="APPLY-ERROR (see build/mutants/logs/$id-apply.log)"
		return
	fi
	if ! (cd "$tree" && harness/prepare-tree.sh build/linux-source-6.1) > "$L/$id-tree.log" 2>&1; then
		verdict="APPLY-ERROR: prepare-tree failed (see build/mutants/logs/$id-tree.log)"
		return
	fi
	if ! (cd "$tree" && harness/build-kernel.sh build/linux-source-6.1 build/obj-scenario \
		harness/configs/scenario.config &&
	      cp build/obj-scenario/arch/x86/boot/bzImage build/bzImage &&
	      harness/mkinitramfs.sh build/initramfs.cpio.gz) > "$L/$id-build.log" 2>&1; then
		verdict="BUILD-ERROR (see build/mutants/logs/$id-build.log)"
		return
	fi
	for step in kunit scenarios; do
		case $step in
		kunit) c=$(run_step "$id" kunit harness/kunit.sh) ;;
		scenarios) c=$(run_step "$id" scenarios harness/scenarios.sh build/bzImage normal) ;;
		esac
		if [ -z "$c" ]; then
			passed+="${passed:+, }$step"
			continue
		fi
		# A kernel that builds but whose KUnit build fails: the mutant's
		# fault (e.g. it breaks the test's compilation), not a catch.
		if [ "$step" = kunit ] && grep -q 'no summary' "$L/$id-kunit.log" &&
		   grep -q '^ERROR:root:' "$TB"/logs/kunit-*.log 2>/dev/null; then
			verdict="BUILD-ERROR of the KUnit kernel (see build/mutants/logs/$id-kunit.log)"
			return
		fi
		[ -n "$verdict" ] || verdict="CAUGHT $c"
		[ "${MUTANTS_ALL_STEPS:-0}" = 1 ] || [ "$id" = 00-pristine ] || return
	done
	[ -n "$verdict" ] || verdict=MISSED
}

what_of() {	# ID
	sed -n 's/^# mutant: //p' "$top/harness/mutants/$1.patch"
}

if [ "$baseline" = 1 ]; then
	log "mutants: the pristine tree first (the first build in build/mutants/tree is a full one, from ccache)"
	s=$(date +%s)
	run_mutant 00-pristine
	if [ "$verdict" != MISSED ]; then
		log "mutants: the pristine tree does not pass: $verdict; stopping"
		exit 1
	fi
	log "mutants: pristine tree passes ($passed) in $(( $(date +%s) - s )) s"
fi

declare -A result
bad=0
i=0
for id in "${mutants[@]}"; do
	i=$((i + 1))
	s=$(date +%s)
	run_mutant "$id"
	case $verdict in
	CAUGHT*) result[$id]=${verdict#CAUGHT } ;;
	*) result[$id]=$verdict; bad=1 ;;
	esac
	log "mutant $i/${#mutants[@]} $id: $verdict ($(( $(date +%s) - s )) s, total $(( $(date +%s) - t0 )) s)"
done

echo
w=6
for id in "${mutants[@]}"; do [ ${#id} -gt $w ] && w=${#id}; done
ww=14
for id in "${mutants[@]}"; do x=$(what_of "$id"); [ ${#x} -gt $ww ] && ww=${#x}; done
printf "%-${w}s | %-${ww}s | %s\n" mutant "what it breaks" "caught by"
printf "%s-|-%s-|-%s\n" "$(printf '%*s' $w '' | tr ' ' -)" "$(printf '%*s' $ww '' | tr ' ' -)" "----------"
for id in "${mutants[@]}"; do
	printf "%-${w}s | %-${ww}s | %s\n" "$id" "$(what_of "$id")" "${result[$id]}"
done
echo
n_missed=0 n_err=0
for id in "${mutants[@]}"; do
	case ${result[$id]} in
	MISSED) n_missed=$((n_missed + 1)) ;;
	*ERROR*) n_err=$((n_err + 1)) ;;
	esac
done
log "mutants: ${#mutants[@]} mutants, $(( ${#mutants[@]} - n_missed - n_err )) caught, $n_missed missed, $n_err broken, in $(( $(date +%s) - t0 )) s"
exit $bad
