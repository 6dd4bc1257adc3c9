#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Export the series, apply it with git am to a pristine base, check that
# the result equals the overlay tree, and build it with the scenario
# config (in build/am/, laid out like build/ so ccache hits).
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
if "$H/build-kernel.sh" "$am" "$B/am/obj-scenario" "$H/configs/scenario.config" > "$L/series-build.log" 2>&1; then
	ok "the git am tree builds"
else
	bad "the git am tree builds (log $L/series-build.log)"; tail -5 "$L/series-build.log"
fi
done_
