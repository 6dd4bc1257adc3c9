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

# Wide headers: those more than $WIDE objects of the full build include.
# A prefix where one of them differs from the final tree would rebuild
# hundreds of objects the series does not touch (mm.h: about 700, over 5
# minutes each time on 2 cores), though their only difference is in
# declarations and inlines the series adds, which the full build compiles
# into all of them. Such a prefix is built in scope instead: every object
# of drivers/pci/p2pmem/ its config builds and every base object the
# series patches, and, in place of the link, a check that every symbol
# those objects need is defined by them or by the rest of vmlinux.
WIDE=100
mapfile -t wide < <(cd "$obj" && find . -name '.*.o.cmd' -print0 |
	xargs -0 grep -ho '[^ ]*linux-source-6\.1/include/[^ ]*\.h' |
	sed 's|.*linux-source-6\.1/||' | sort | uniq -c |
	awk -v w=$WIDE '$1 > w {print $2}')
touched_c=$(git -C "$am" diff --name-only origin/base HEAD -- '*.c' |
	grep -v '^drivers/pci/p2pmem/' | grep -v '^tools/' |
	while read -r c; do [ -f "$obj/${c%.c}.o" ] && echo "${c%.c}.o"; done)
# Symbols the rest of vmlinux defines: the final link's, less those of
# the objects a scoped build rebuilds.
nm -g --defined-only "$obj/vmlinux" 2>/dev/null | awk '{print $3}' | sort -u > "$L/series-vmlinux.syms"
scope_objs() {	# the objects a scoped build made, that exist now
	(cd "$obj" && { find drivers/pci/p2pmem -name '*.o' ! -name 'built-in*' 2>/dev/null
			for o in $touched_c; do [ -f "$o" ] && echo "$o"; done; })
}
(cd "$obj" && nm -g --defined-only $(scope_objs) 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u) > "$L/series-scope-final.syms"
comm -23 "$L/series-vmlinux.syms" "$L/series-scope-final.syms" > "$L/series-rest.syms"
if [ ${#wide[@]} -lt 10 ] || [ ! -s "$L/series-rest.syms" ] || [ -z "$touched_c" ]; then
	bad "found ${#wide[@]} wide headers, $(wc -l < "$L/series-rest.syms") vmlinux symbols, touched objects: $(echo $touched_c)"
	done_
fi
wide_re=$(printf '%s\n' "${wide[@]}" | sed 's/[.]/\\./g; s/^/^/; s/$/$/' | paste -sd'|')

log "series: building every prefix of the $total patches (incremental; in scope where a wide header differs, see the README)"
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
	hdrs=$(git -C "$am" diff --name-only "$c" "${commits[total - 1]}" | grep -E "$wide_re" | paste -sd' ')
	s=$(date +%s)
	if ! git -C "$am" checkout -q "$c" || ! cp "$obj/.config.series-full" "$obj/.config" ||
	   ! "${KMAKE[@]}" -C "$am" O="$obj" olddefconfig >> "$L/series-prefixes.log" 2>&1; then
		bad "prefix $k/$total configures: $subj (log $L/series-prefixes.log)"
		break
	fi
	if [ -z "$hdrs" ]; then
		log "series: building prefix $k/$total: $subj"
		if "${KMAKE[@]}" -C "$am" O="$obj" vmlinux >> "$L/series-prefixes.log" 2>&1; then
			ok "prefix $k/$total builds: $subj ($(( $(date +%s) - s )) s)"
			built=$k
			checked=$((checked + 1))
			continue
		fi
	else
		log "series: building prefix $k/$total in scope ($hdrs differ): $subj"
		objs=$(for o in $touched_c; do [ -f "$am/${o%.o}.c" ] && echo "$o"; done)
		p2p=
		[ -d "$am/drivers/pci/p2pmem" ] && p2p=drivers/pci/p2pmem/
		if "${KMAKE[@]}" -C "$am" O="$obj" prepare >> "$L/series-prefixes.log" 2>&1 &&
		   "${KMAKE[@]}" -C "$am" O="$obj" $p2p $objs >> "$L/series-prefixes.log" 2>&1; then
			# The objects of this prefix: p2pmem's as its Makefiles
			# list them (in the built-in archive), the patched ones.
			mine=$(cd "$obj" && { [ -n "$p2p" ] && [ -f drivers/pci/p2pmem/built-in.a ] &&
				ar t drivers/pci/p2pmem/built-in.a; echo $objs; })
			(cd "$obj" && nm -g --defined-only $mine | awk 'NF == 3 {print $3}' | sort -u) > "$L/series-k.def"
			missing=$(cd "$obj" && nm -u $mine | awk 'NF == 2 {print $2}' | sort -u |
				comm -23 - "$L/series-k.def" | comm -23 - "$L/series-rest.syms")
			if [ -z "$missing" ]; then
				ok "prefix $k/$total builds in scope: $subj ($(echo $mine | wc -w) objects, every symbol they need defined; $(( $(date +%s) - s )) s)"
				checked=$((checked + 1))
				continue
			fi
			echo "    undefined: $(echo $missing)" >> "$L/series-prefixes.log"
		fi
	fi
	bad "prefix $k/$total builds: $subj (log $L/series-prefixes.log)"
	grep -E 'error|Error|undefined' "$L/series-prefixes.log" | tail -10 | sed 's/^/    /'
	break
done
git -C "$am" checkout -q "${commits[total - 1]}"
# Fail closed: every prefix has a result, or one failed above.
[ "$fail" -gt 0 ] || [ "$checked" = $((total - 1)) ] ||
	bad "only $checked of the $((total - 1)) prefixes were checked"
done_
