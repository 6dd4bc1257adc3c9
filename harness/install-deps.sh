#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and tests need (as root). The
# base, linux-source-6.1, is pinned to the version in harness/base.env
# while Debian still has it; otherwise the newest 6.1 is installed and
# prepare-tree.sh accepts it only if every patch applies without fuzz.
set -euo pipefail
trap 'echo "install-deps: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
. "$(dirname "$0")/base.env"
pkgs=(qemu-system-x86 ccache gcc make bc bison flex
      libelf-dev libssl-dev cpio busybox-static kmod python3 sparse
      coccinelle ocaml-nox git perl file xz-utils gzip tar
      libc6-dev nvme-cli iproute2)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# (dpkg-query fails for a package it has never seen: a new machine)
have=$({ dpkg-query -W -f='${Status} ${Version}' "$BASE_PKG" 2>/dev/null || true; } |
	sed -n 's/^install ok installed //p')
[ ${#missing[@]} = 0 ] && [ "$have" = "$BASE_PKG_VERSION" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	[ ${#missing[@]} = 0 ] && [ -n "$have" ] && exit 0	# prepare-tree.sh judges the base
	echo "install-deps: missing packages: ${missing[*]} ${have:-$BASE_PKG}; run as root or install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
if apt-cache madison "$BASE_PKG" | awk '{print $3}' | grep -qx "$BASE_PKG_VERSION"; then
	[ "$have" = "$BASE_PKG_VERSION" ] || missing+=("$BASE_PKG=$BASE_PKG_VERSION")
else
	echo "install-deps: $BASE_PKG $BASE_PKG_VERSION (the recorded base) is no longer in the archive;" \
	     "installing the newest, which must take the series without fuzz" >&2
	[ -n "$have" ] || missing+=("$BASE_PKG")
fi
[ ${#missing[@]} = 0 ] && exit 0
echo "install-deps: installing ${missing[*]} (a minute or two)"
apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}" >/dev/null
