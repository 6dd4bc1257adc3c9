#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Export the series, apply it with git am to a pristine base, check that
# the result equals the overlay tree, and build it with the scenario
# config (in build/am/, laid out like build/ so ccache hits). Then check
# that the series bisects: every prefix builds (vmlinux, incrementally in
# the same object tree, last commit first, each prefix configured by
# olddefconfig from the full config so symbols it lacks drop out). One
# check per prefix; a prefix that changes only Documentation/, MAINTAINERS
# or tools/ builds what the next one built and is not built again.
set -uo pipefail
. "$(dirname "$0")/env.sh"
H=$top/harness
R=$B/results
L=$B/logs
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  series: ok: $*"; }
bad() { fail=$((fail + 1)); echo "  series: not ok: $*"; }
done_() { echo "$pass $fail 0" > "$R/series"; exit 0; }

if "$H/export-series.sh" "$B/series" > "$L/series-export.log" 2>&1; then
	ok "make series exports $(ls "$B"/series/*.patch | wc -l) files"
else
	bad "make series"; cat "$L/series-export.log"; done_
fi

am=$B/am/linux-source-6.1
rm -rf "$B/am/linux-source-6.1"
mkdir -p "$B/am"
git clone -q -b base "$B/base.git" "$am"
if git -C "$am" -c user.name=am -c user.email=am@localhost am -q \
	$(ls "$B"/series/0*.patch | grep -v '/0000-') > "$L/series-am.log" 2>&1; then
	ok "git am of the series on a pristine $(git -C "$am" log -1 --format=%s origin/base)"
else
	bad "git am (log $L/series-am.log)"; cat "$L/series-am.log"; done_
fi

# The applied series must equal the tree the tests used.
drift=0
for f in $(git -C "$am" diff --name-only origin/base HEAD); do
	cmp -s "$am/$f" "$B/linux-source-6.1/$f" || { echo "    differs: $f"; drift=1; }
done
[ $drift = 0 ] && ok "applied series equals the tested tree" || bad "applied series equals the tested tree"

log "series: building the git am tree (scenario config; ccache makes it 2-3 minutes)"
obj=$B/am/obj-scenario
if "$H/build-kernel.sh" "$am" "$obj" "$H/configs/scenario.config" > "$L/series-build.log" 2>&1; then
	ok "the git am tree builds"
else
	bad "the git am tree builds (log $L/series-build.log)"; tail -5 "$L/series-build.log"
	done_
fi

# Bisectability: every prefix, newest first, so the first one reuses the
# objects of the full build and each later one rebuilds only what differs.
mapfile -t commits < <(git -C "$am" rev-list --reverse origin/base..HEAD)
total=${#commits[@]}
npatches=$(ls "$B"/series/0*.patch | grep -vc '/0000-')
if [ "$total" != "$npatches" ] || [ "$total" -lt 1 ]; then
	bad "the git am tree has $total commits for $npatches patches"; done_
fi
cp "$obj/.config" "$obj/.config.series-full"
# The prefixes leave another config behind: let the next run configure.
rm -f "$obj"/.config-*
log "series: building every prefix of the $total patches (incremental, under a minute each)"
: > "$L/series-prefixes.log"
built=$total checked=0
for ((k = total - 1; k >= 1; k--)); do
	c=${commits[k - 1]}
	subj=$(git -C "$am" log -1 --format=%s "$c")
	if ! git -C "$am" diff --name-only "$c" "${commits[built - 1]}" |
	     grep -qvE '^(Documentation/|MAINTAINERS$|tools/)'; then
		ok "prefix $k/$total builds: $subj (no kernel source differs from prefix $built)"
		checked=$((checked + 1))
		continue
	fi
	log "series: building prefix $k/$total: $subj"
	s=$(date +%s)
	if git -C "$am" checkout -q "$c" &&
	   cp "$obj/.config.series-full" "$obj/.config" &&
	   "${KMAKE[@]}" -C "$am" O="$obj" olddefconfig >> "$L/series-prefixes.log" 2>&1 &&
	   "${KMAKE[@]}" -C "$am" O="$obj" vmlinux >> "$L/series-prefixes.log" 2>&1; then
		ok "prefix $k/$total builds: $subj ($(( $(date +%s) - s )) s)"
		built=$k
		checked=$((checked + 1))
	else
		bad "prefix $k/$total builds: $subj (log $L/series-prefixes.log)"
		grep -E 'error|Error|undefined reference' "$L/series-prefixes.log" | tail -10 | sed 's/^/    /'
		break
	fi
done
git -C "$am" checkout -q "${commits[total - 1]}"
# Fail closed: every prefix has a result, or one failed above.
[ "$fail" -gt 0 ] || [ "$checked" = $((total - 1)) ] ||
	bad "only $checked of the $((total - 1)) prefixes were checked"
done_
