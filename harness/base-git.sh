#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make build/base.git: the pristine base as one git commit (about 1 minute,
# once per base version), the tree `make series` builds on and `git am`
# applies to. The base is the one prepare-tree.sh used (build/base-version).
set -euo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/base.env"
used=$(cat "$B/base-version" 2>/dev/null) ||
	{ echo "base-git: no build/base-version; run prepare-tree.sh first" >&2; exit 1; }
inst=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || echo unknown)
case "$used" in
"$BASE_PKG $inst "*) ;;
*)	echo "base-git: the installed $BASE_PKG is $inst, but the tree was prepared from $used;" \
	     "run prepare-tree.sh again" >&2
	exit 1 ;;
esac
[ "$(cat "$B/base.git/.p2pmem-base" 2>/dev/null)" = "$used" ] && exit 0
log "base.git: importing $used into git (about 1 minute, once)"
rm -rf "$B/base.git"
mkdir -p "$B/base.git"
tar xf "$BASE_TARBALL" -C "$B/base.git" --strip-components=1
cd "$B/base.git"
git init -q -b base
git add -A -f .
GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
	git -c user.name=base -c user.email=base@localhost commit -q -m "$used"
echo "$used" > .p2pmem-base
echo .p2pmem-base > .git/info/exclude
