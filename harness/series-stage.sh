#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stage patches: the intermediate versions of files that more than one
# commit of the exported series touches (core.c, p2pmem.h, Makefile, ...).
#
# A block of harness/series.conf with "stage NN-name.patch" adds the hunks
# of harness/series-stages/NN-name.patch to files an earlier block added.
# The stage is a diff from the file as that commit's parent has it to the
# file as the commit leaves it; the version of a file at commit N is the
# final file with the stages of the blocks after N reverse-applied, last
# block first.
#
#   series-stage.sh snapshots <dir>   write <dir>/<N>/<file>, the staged
#                                     files as commit N has them (used by
#                                     export-series.sh)
#   series-stage.sh refresh <stage>   the final files changed and <stage> no
#                                     longer applies: retry with fuzz and
#                                     rewrite the stage from the result
#   series-stage.sh write <stage>     rewrite <stage> from the a/ (parent)
#                                     and b/ (commit) trees that refresh
#                                     left in build/series-stage/<stage>/
set -euo pipefail
. "$(dirname "$0")/env.sh"
conf=$top/harness/series.conf
sdir=$top/harness/series-stages

# "N stage" for every stage line, N counting subject lines from 1.
stage_list() {
	awk '/^subject /{n++} /^stage /{print n, $2}' "$conf"
}
stage_files() {	# stage_files STAGE: the files a stage patch touches
	sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$sdir/$1"
}
subject_of() {	# subject_of N
	awk -v n="$1" '/^subject /{if (++i == n) {sub(/^subject /, ""); print}}' "$conf"
}
all_files() {
	stage_list | while read -r _ s; do stage_files "$s"; done | sort -u
}
fail_stage() {	# fail_stage STAGE N OUTPUT
	cat >&2 <<EOM
export-series: stage harness/series-stages/$1 of commit $2
  "$(subject_of "$2")"
no longer applies: the final version of a file it touches changed where
the stage's hunks are. patch said:
$(echo "$3" | sed 's/^/    /')
Refresh the stage with
    harness/series-stage.sh refresh $1
which retries with fuzz and rewrites the stage (check the diff it shows),
or, when that fails too, edit the parent's version it leaves in
build/series-stage/$1/a/ and run harness/series-stage.sh write $1.
EOM
	exit 1
}
unapply() {	# unapply DIR STAGE N [FUZZ]: reverse-apply a stage in DIR
	local out
	if ! out=$(patch -f -R -p1 -F"${4:-0}" -s --dry-run -d "$1" < "$sdir/$2" 2>&1); then
		[ "${4:-0}" = 0 ] && fail_stage "$2" "$3" "$out"
		echo "$out" >&2
		return 1
	fi
	patch -f -R -p1 -F"${4:-0}" -s --no-backup-if-mismatch -d "$1" < "$sdir/$2"
}
# work DIR [STOP]: DIR holds the final staged files; reverse the stages of
# the blocks after STOP (all of them without STOP), snapshotting each block.
work() {
	local dir=$1 stop=${2:-0} n last f
	rm -rf "$dir"
	mkdir -p "$dir/work"
	for f in $(all_files); do
		[ -f "$top/$f" ] || { echo "export-series: a stage names $f, which does not exist" >&2; exit 1; }
		mkdir -p "$dir/work/$(dirname "$f")"
		cp "$top/$f" "$dir/work/$f"
	done
	last=$(grep -c '^subject ' "$conf")
	for ((n = last; n > stop; n--)); do
		if [ "$stop" = 0 ]; then
			mkdir -p "$dir/$n"
			cp -a "$dir/work/." "$dir/$n/"
		fi
		for s in $(stage_list | awk -v n="$n" '$1 == n {print $2}' | tac); do
			unapply "$dir/work" "$s" "$n"
		done
	done
}

case "${1:-}" in
snapshots)
	work "$2"
	rm -rf "$2/work" ;;
refresh|write)
	st=${2:?stage name}
	[ -f "$sdir/$st" ] || { echo "series-stage: no harness/series-stages/$st" >&2; exit 1; }
	n=$(stage_list | awk -v s="$st" '$2 == s {print $1}')
	d=$B/series-stage/$st
	if [ "$1" = refresh ]; then
		work "$d.tmp" "$n"
		rm -rf "$d"
		mkdir -p "$d/a" "$d/b"
		for f in $(stage_files "$st"); do
			mkdir -p "$d/a/$(dirname "$f")" "$d/b/$(dirname "$f")"
			cp "$d.tmp/work/$f" "$d/a/$f"
			cp "$d.tmp/work/$f" "$d/b/$f"
		done
		rm -rf "$d.tmp"
		if ! unapply "$d/a" "$st" "$n" 3; then
			echo "series-stage: $st does not apply even with fuzz; edit $d/a/ (the" \
			     "files as the parent of \"$(subject_of "$n")\" should have them;" \
			     "*.rej has what did not apply), then run harness/series-stage.sh write $st" >&2
			patch -f -R -p1 -F3 -s -d "$d/a" < "$sdir/$st" > /dev/null 2>&1 || true
			exit 1
		fi
	fi
	new=$(mktemp)
	sed -n '/^--- a\//q; p' "$sdir/$st" > "$new"
	for f in $(stage_files "$st"); do
		(cd "$d" && diff -u --label "a/$f" --label "b/$f" "a/$f" "b/$f") >> "$new" || true
	done
	diff -u "$sdir/$st" "$new" || true
	mv "$new" "$sdir/$st"
	echo "series-stage: rewrote harness/series-stages/$st; check the diff above and run make series" ;;
*)
	sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2 ;;
esac
