#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lay the p2pmem overlay and patch series over a pristine base tree.
#   prepare-tree.sh <dest-dir>
# The base is extracted once (about 10 s); patches are re-applied only when
# the series changes; overlay files are copied only when their content
# changed, so an incremental kernel build recompiles just what was edited.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/harness/base.env"
dest=$1

if [ ! -f "$BASE_TARBALL" ]; then
	echo "prepare-tree: $BASE_TARBALL missing; install $BASE_PKG" >&2
	exit 1
fi
have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || echo unknown)
if [ "$have" != "$BASE_PKG_VERSION" ]; then
	echo "prepare-tree: note: series made against $BASE_PKG $BASE_PKG_VERSION, installed is $have" >&2
fi

stamp=$( (cat "$top/patches/series"; cd "$top/patches" && cat $(cat series)) | sha1sum | cut -c1-12)
if [ ! -f "$dest/.p2pmem-patches-$stamp" ]; then
	echo "prepare-tree: extracting $BASE_PKG $have into $dest (about 10 s)"
	rm -rf "$dest"
	mkdir -p "$dest"
	tar xf "$BASE_TARBALL" -C "$dest" --strip-components=1
	for p in $(cat "$top/patches/series"); do
		if ! patch -p1 -s -N -d "$dest" --dry-run < "$top/patches/$p" >/dev/null; then
			echo "prepare-tree: patch $p does not apply to $BASE_PKG $have (series made against $BASE_PKG_VERSION, kernel $BASE_KERNEL_VERSION)" >&2
			exit 1
		fi
		patch -p1 -s -N -d "$dest" < "$top/patches/$p"
	done
	touch "$dest/.p2pmem-patches-$stamp"
fi

# Overlay: every file of ours at a kernel path.
cd "$top"
for d in drivers include Documentation tools kernel lib mm; do
	[ -d "$d" ] || continue
	find "$d" -type f -print0 | while IFS= read -r -d '' f; do
		if ! cmp -s "$f" "$dest/$f"; then
			mkdir -p "$dest/$(dirname "$f")"
			cp "$f" "$dest/$f"
		fi
	done
done
