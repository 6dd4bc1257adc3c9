#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Export the series, apply it with git am to a pristine base, check that
# the result equals the tested tree (which build-debug built), and
# check that the series bisects: every prefix compiles what it changes
# (in build/am/, laid out like build/ so ccache hits; with the debug
# kernel's config, the one make check builds), and every symbol
# its objects need is defined. One check per prefix; a prefix that
# changes only Documentation/, MAINTAINERS or tools/ builds what the next
# one built and is not built again.
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

# The whole series: the applied tree equals the tested tree, which
# build-debug built; its objects (build/obj-debug) are the reference
# every prefix is checked against.
full=$B/obj-debug
configs=("$H/configs/scenario.config" "$H/configs/debug.config")
if [ $drift = 0 ] && [ -f "$full/vmlinux" ] && [ -f "$full/vmlinux.a" ]; then
	ok "the git am tree builds (it is the tested tree, built in $(basename "$full"))"
else
	bad "the git am tree builds: no build of the tested tree in $full, or the trees differ"
	done_
fi

# Bisectability: every prefix, newest first, incrementally in one object
# tree. A prefix compiles what it changes and nothing else: every object
# of drivers/pci/p2pmem/ its Makefiles list, and every object of the
# whole series' vmlinux that includes a file or tests a config symbol
# that differs between the prefix and the whole series
# (harness/series-scope.py reads that from the .cmd files of the full
# build, once). A header or symbol more than $WIDE objects depend on (mm.h:
# about 700 objects, 5 minutes each time on 2 cores) is not followed:
# their only difference is in what the series adds, which the full build
# compiles into all of them; the check names them. In place of the link,
# every symbol the prefix's objects need must be defined by them or by
# the rest of the full vmlinux, and none they define may be defined there
# too.
WIDE=100
mapfile -t commits < <(git -C "$am" rev-list --reverse origin/base..HEAD)
total=${#commits[@]}
npatches=$(ls "$B"/series/0*.patch | grep -vc '/0000-')
if [ "$total" != "$npatches" ] || [ "$total" -lt 1 ]; then
	bad "the git am tree has $total commits for $npatches patches"; done_
fi
obj=$B/am/obj-debug
mkdir -p "$obj"
rm -f "$obj"/.config-*
if ! "$H/build-kernel.sh" --config-only "$am" "$obj" "${configs[@]}" > "$L/series-build.log" 2>&1 ||
   ! cmp -s "$obj/.config" "$full/.config"; then
	bad "the series configures as the tested tree did (log $L/series-build.log)"; done_
fi
cp "$obj/.config" "$obj/.config.series-full"
# The prefixes leave another config behind: let the next run configure.
rm -f "$obj"/.config-*
config_syms() { grep '^CONFIG_' "$1" | sort; }
config_syms "$full/.config" > "$L/series-config-full"
nm -g --defined-only "$full/vmlinux" 2>/dev/null | awk '{print $3}' | sort -u > "$L/series-vmlinux.syms"
if [ ! -s "$L/series-vmlinux.syms" ]; then
	bad "no symbols in $full/vmlinux"; done_
fi
if ! python3 "$H/series-scope.py" index "$full" > "$L/series-index.json"; then
	bad "no index of the objects of $full (harness/series-scope.py failed)"; done_
fi
defs() {	# defs DIR OBJ...: the global symbols the objects define
	(cd "$1" && nm -g --defined-only "${@:2}" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
}
strong() {	# strong DIR OBJ...: those of them no weak definition
	(cd "$1" && nm -g --defined-only "${@:2}" 2>/dev/null | awk 'NF == 3 && $2 !~ /[wWvV]/ {print $3}' | sort -u)
}

log "series: checking every prefix of the $total patches (incremental; what each changes, see the README)"
: > "$L/series-prefixes.log"
checked=0 last=$total cfg=
for ((k = total - 1; k >= 1; k--)); do
	c=${commits[k - 1]}
	subj=$(git -C "$am" log -1 --format=%s "$c")
	if ! git -C "$am" diff --name-only "$c" "${commits[last - 1]}" |
	     grep -qvE '^(Documentation/|MAINTAINERS$|tools/)'; then
		ok "prefix $k/$total builds: $subj (no kernel source differs from prefix $last)"
		checked=$((checked + 1))
		continue
	fi
	s=$(date +%s)
	if ! git -C "$am" checkout -q "$c"; then
		bad "prefix $k/$total checks out: $subj"
		break
	fi
	# The full config through olddefconfig, when the Kconfig files
	# differ from those that made the config in $obj (about 10 s of
	# kconfig and syncconfig a time; most prefixes change no Kconfig).
	if [ -z "$cfg" ] || ! git -C "$am" diff --quiet "$c" "$cfg" -- \
		':(glob)**/Kconfig*' scripts/kconfig/; then
		if ! cp "$obj/.config.series-full" "$obj/.config" ||
		   ! "${KMAKE[@]}" -C "$am" O="$obj" olddefconfig >> "$L/series-prefixes.log" 2>&1; then
			bad "prefix $k/$total configures: $subj (log $L/series-prefixes.log)"
			break
		fi
		cfg=$c
	fi
	git -C "$am" diff --name-only "$c" "${commits[total - 1]}" |
		grep -vE '^(Documentation/|MAINTAINERS$|tools/)' > "$L/series-k.files"
	config_syms "$obj/.config" | comm -3 - "$L/series-config-full" |
		sed 's/^\t//; s/=.*//' | sort -u > "$L/series-k.syms"
	if ! python3 "$H/series-scope.py" scope "$L/series-index.json" $WIDE "$L/series-k.files" "$L/series-k.syms" > "$L/series-k.scope"; then
		bad "prefix $k/$total: no scope (harness/series-scope.py failed)"
		break
	fi
	objs=$(awk '$1 == "obj" {print $2}' "$L/series-k.scope")
	wide=$(awk '$1 == "wide" {print $2}' "$L/series-k.scope" | paste -sd' ')
	p2p=
	grep -q '^CONFIG_PCI_P2PMEM=y' "$obj/.config" && p2p=drivers/pci/p2pmem/
	log "series: prefix $k/$total: $(echo $objs | wc -w) objects${p2p:+ and $p2p}: $subj"
	if "${KMAKE[@]}" -C "$am" O="$obj" $p2p $objs >> "$L/series-prefixes.log" 2>&1; then
		# The objects of this prefix: p2pmem's as its Makefiles
		# list them (in the built-in archive), the others in scope.
		mine=$(cd "$obj" && { [ -n "$p2p" ] && ar t drivers/pci/p2pmem/built-in.a; echo $objs; })
		final=$(cd "$full" && { ar t drivers/pci/p2pmem/built-in.a; echo $objs; })
		defs "$obj" $mine > "$L/series-k.def"
		defs "$full" $final | comm -23 "$L/series-vmlinux.syms" - > "$L/series-k.rest"
		missing=$(cd "$obj" && nm -u $mine | awk 'NF == 2 {print $2}' | sort -u |
			comm -23 - "$L/series-k.def" | comm -23 - "$L/series-k.rest")
		twice=$(strong "$obj" $mine | comm -12 - "$L/series-k.rest")
		if [ -z "$missing" ] && [ -z "$twice" ]; then
			ok "prefix $k/$total builds: $subj ($(echo $mine | wc -w) objects, every symbol they need defined once${wide:+; not followed: $wide}; $(( $(date +%s) - s )) s)"
			checked=$((checked + 1))
			last=$k
			continue
		fi
		echo "    undefined: $(echo $missing)" >> "$L/series-prefixes.log"
		echo "    defined twice: $(echo $twice)" >> "$L/series-prefixes.log"
	fi
	bad "prefix $k/$total builds: $subj (log $L/series-prefixes.log)"
	grep -E 'error|Error|undefined|twice' "$L/series-prefixes.log" | tail -10 | sed 's/^/    /'
	break
done
git -C "$am" checkout -q "${commits[total - 1]}"
# Fail closed: every prefix has a result, or one failed above.
[ "$fail" -gt 0 ] || [ "$checked" = $((total - 1)) ] ||
	bad "only $checked of the $((total - 1)) prefixes were checked"
done_
