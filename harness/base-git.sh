#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make build/base.git: the pristine base as one git commit (about 1 minute,
# once), the tree `make series` builds on and `git am` applies to.
set -euo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/base.env"
[ -f "$B/base.git/.p2pmem-base" ] && exit 0
log "base.git: importing $BASE_PKG into git (about 1 minute, once)"
rm -rf "$B/base.git"
mkdir -p "$B/base.git"
tar xf "$BASE_TARBALL" -C "$B/base.git" --strip-components=1
cd "$B/base.git"
git init -q -b base
git add -A -f .
GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
	git -c user.name=base -c user.email=base@localhost commit -q \
	-m "Linux $BASE_KERNEL_VERSION ($BASE_PKG $BASE_PKG_VERSION)"
touch .p2pmem-base
echo .p2pmem-base > .git/info/exclude
