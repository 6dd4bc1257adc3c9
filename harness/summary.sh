#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sum the per-step results (files of "passed failed skipped") and print
# the final line. Exits non-zero when anything failed.
R=$1
p=0 f=0 s=0
echo "----------------------------------------------------------------"
for r in "$R"/*; do
	read -r a b c < "$r"
	printf '%-28s %4d passed, %d failed, %d skipped\n' "$(basename "$r")" "$a" "$b" "$c"
	p=$((p + a)) f=$((f + b)) s=$((s + c))
done
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ]
