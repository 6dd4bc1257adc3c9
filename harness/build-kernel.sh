#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build one kernel.
#   build-kernel.sh [--config-only] <srcdir> <objdir> <fragment>...
# The config is tinyconfig plus the fragments; every symbol a fragment sets
# is checked to have survived olddefconfig, so a missing dependency fails
# loudly instead of silently building something else.
set -euo pipefail
. "$(dirname "$0")/env.sh"
config_only=0
[ "$1" = --config-only ] && { config_only=1; shift; }
src=$(realpath "$1") obj=$(realpath -m "$2")
shift 2
mkdir -p "$obj"
name=$(basename "$obj")
stamp=$(cat "$@" | sha1sum | cut -c1-12)
if [ ! -f "$obj/.config-$stamp" ] || [ ! -f "$obj/.config" ]; then
	log "$name: configuring (tinyconfig + $(for f in "$@"; do basename "$f"; done | tr '\n' ' '))"
	"${KMAKE[@]}" -C "$src" O="$obj" tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$@" >/dev/null
	"${KMAKE[@]}" -C "$src" O="$obj" olddefconfig >/dev/null
	bad=0
	# The last fragment to set a symbol wins, as in merge_config.sh.
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) sym=${line%=n}
			grep -q "^$sym=" "$obj/.config" && { echo "  $sym is set, wanted n" >&2; bad=1; } ;;
		CONFIG_*=*) grep -qx "$line" "$obj/.config" || { echo "  $line did not survive olddefconfig" >&2; bad=1; } ;;
		esac
	done < <(cat "$@" | grep '^CONFIG_' | awk -F= '{v[$1]=$0; if (!($1 in o)) o[$1]=n++} END {for (k in v) print o[k], v[k]}' | sort -n | cut -d' ' -f2-)
	[ $bad = 0 ] || { echo "$name: config check failed" >&2; exit 1; }
	rm -f "$obj"/.config-*
	touch "$obj/.config-$stamp"
fi
[ $config_only = 1 ] && exit 0
if [ -f "$obj/arch/x86/boot/bzImage" ]; then
	log "$name: building (incremental, usually under a minute)"
else
	log "$name: building (cold: about 6 minutes on 2 cores, less with a warm ccache)"
fi
start=$(date +%s)
if ! "${KMAKE[@]}" -C "$src" O="$obj" bzImage > "$obj/build.log" 2>&1; then
	grep -E 'error|Error' "$obj/build.log" | head -40 >&2
	tail -20 "$obj/build.log" >&2
	echo "$name: build failed (full log: $obj/build.log)" >&2
	exit 1
fi
grep -E 'warning:' "$obj/build.log" | head -20 || true
log "$name: done in $(( $(date +%s) - start )) s"
