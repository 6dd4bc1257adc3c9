#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lay the p2pmem overlay and patch series over a pristine base tree.
#   prepare-tree.sh <dest-dir>
# The base is extracted again whenever the series or the installed base
# package changes (about 10 s); overlay files are copied only when their
# content changed, so an incremental kernel build recompiles just what was
# edited. Patches must apply without fuzz. The base used is written to
# build/base-version, which the summary and the cover letter print.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/harness/base.env"
B=$top/build
dest=$1

if [ ! -f "$BASE_TARBALL" ]; then
	echo "prepare-tree: $BASE_TARBALL missing; install $BASE_PKG (make deps)" >&2
	exit 1
fi
have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || echo unknown)
if [ "$have" != "$BASE_PKG_VERSION" ]; then
	echo "prepare-tree: base is $BASE_PKG $have, not the recorded $BASE_PKG_VERSION;" \
	     "accepted only if every patch applies without fuzz"
fi

stamp=$( (echo "$have"; cat "$top/patches/series"; cd "$top/patches" && cat $(cat series)) | sha1sum | cut -c1-12)
if [ ! -f "$dest/.p2pmem-patches-$stamp" ]; then
	echo "prepare-tree: extracting $BASE_PKG $have into $dest (about 10 s)"
	rm -rf "$dest"
	mkdir -p "$dest"
	tar xf "$BASE_TARBALL" -C "$dest" --strip-components=1
	for p in $(cat "$top/patches/series"); do
		if ! out=$(patch -p1 -N -F0 -d "$dest" --dry-run < "$top/patches/$p" 2>&1) ||
		   echo "$out" | grep -q 'with fuzz'; then
			echo "prepare-tree: patch $p does not apply without fuzz to $BASE_PKG $have" \
			     "(series made against $BASE_PKG_VERSION, Linux $BASE_KERNEL_VERSION):" >&2
			echo "$out" | sed 's/^/  /' >&2
			exit 1
		fi
		patch -p1 -s -N -F0 -d "$dest" < "$top/patches/$p"
	done
	touch "$dest/.p2pmem-patches-$stamp"
fi
kver=$(awk -F' = ' '$1 == "VERSION" {v = $2} $1 == "PATCHLEVEL" {p = $2}
	$1 == "SUBLEVEL" {s = $2; exit} END {print v "." p "." s}' "$dest/Makefile")
mkdir -p "$B"
echo "$BASE_PKG $have (Linux $kver)" > "$B/base-version"

# Overlay: every file of ours at a kernel path (new files only: edits of
# base files are patches). A file the overlay had the last time but no
# longer has is removed from the tree.
cd "$top"
list=$dest/.p2pmem-overlay
new=$(for d in drivers include Documentation tools kernel lib mm; do
	if [ -d "$d" ]; then find "$d" -type f; fi; done | sort)
if [ -f "$list" ]; then
	for f in $(comm -23 "$list" <(echo "$new")); do
		rm -f "$dest/$f"
	done
fi
for f in $new; do
	if ! cmp -s "$f" "$dest/$f"; then
		mkdir -p "$(dirname "$dest/$f")"
		cp "$f" "$dest/$f"
	fi
done
echo "$new" > "$list"
