#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and tests need (as root).
set -euo pipefail
pkgs=(linux-source-6.1 qemu-system-x86 ccache gcc make bc bison flex
      libelf-dev libssl-dev cpio busybox-static kmod python3 sparse
      coccinelle ocaml-nox git perl file xz-utils gzip tar)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]} (a minute or two)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
