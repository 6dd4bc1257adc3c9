#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static gates, one counted check each: checkpatch --strict on every C
# file and every exported patch, kernel-doc, sparse (C=2), W=1,
# coccicheck, no #ifdef CONFIG_PCI_P2PMEM in .c files (ours or patched),
# and the objects that see p2pmem's headers built with PCI_P2PMEM=n.
# Every gate fails closed: a missing tool, a tool that exits non-zero or
# an empty list of things to check is a failure.
set -uo pipefail
. "$(dirname "$0")/env.sh"
SRC=$B/linux-source-6.1
R=$B/results
L=$B/logs
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  static: ok: $*"; }
bad() { fail=$((fail + 1)); echo "  static: not ok: $*"; }
done_() { echo "$pass $fail 0" > "$R/static"; [ $fail = 0 ]; exit; }
mkdir -p "$R" "$L"

cd "$top"
cfiles=$(find drivers include kernel lib mm tools -name '*.[ch]' 2>/dev/null | sort)
[ -n "$cfiles" ] || { bad "no C files found to check"; done_; }
for t in "$SRC/scripts/checkpatch.pl" "$SRC/scripts/kernel-doc"; do
	[ -x "$t" ] || { bad "$t missing"; done_; }
done

# checkpatch exits non-zero on any ERROR, WARNING or CHECK.
cp_one() {	# cp_one NAME checkpatch-args...
	local out
	if out=$("$SRC/scripts/checkpatch.pl" --strict --no-tree --terse -q "${@:2}" 2>&1); then
		ok "checkpatch --strict $1"
	else
		bad "checkpatch --strict $1"
		echo "${out:-checkpatch failed without output}" | head -10 | sed 's/^/    /'
	fi
}
for f in $cfiles; do
	cp_one "$f" -f "$f"
	if out=$("$SRC/scripts/kernel-doc" -none "$f" 2>&1) && [ -z "$out" ]; then
		ok "kernel-doc -none $f"
	else
		bad "kernel-doc -none $f"; echo "$out" | head -10 | sed 's/^/    /'
	fi
done

# The exported series (series-check.sh writes it): every patch but the
# cover letter.
patches=$(ls "$B"/series/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '/0000-')
if [ -z "$patches" ]; then
	bad "no exported series in $B/series to check"
else
	# checkpatch asks "does MAINTAINERS need updating?" of every patch that
	# adds files without touching MAINTAINERS. In the split series the
	# P2PMEM entry comes with the core and lists directories, so the answer
	# is no when the entry already covers every file the patch adds: only
	# then is the warning off.
	fpat=$(awk '/^PCI PEER-TO-PEER MEMORY \(P2PMEM\)$/ {e = 1; next} e && /^$/ {exit}
		e && /^F:/ {print $2}' "$SRC/MAINTAINERS")
	for p in $patches; do
		new=$(awk '/^diff --git / {f = substr($4, 3)} /^new file mode/ {print f}' "$p")
		unlisted=$(for f in $new; do
			hit=0
			for pat in $fpat; do
				case "$pat" in
				*/) [ "${f#"$pat"}" != "$f" ] && hit=1 ;;
				*) [ "$f" = "$pat" ] && hit=1 ;;
				esac
			done
			[ $hit = 1 ] || echo "$f"
		done)
		if [ -n "$new" ] && [ -z "$unlisted" ] && ! grep -q '^diff --git a/MAINTAINERS ' "$p"; then
			cp_one "$(basename "$p") (its new files are in the P2PMEM MAINTAINERS entry)" \
				--ignore FILE_PATH_CHANGES "$p"
		else
			cp_one "$(basename "$p")" "$p"
		fi
	done
fi

# No #ifdef CONFIG_PCI_P2PMEM in .c files: ours, and the lines our
# patches add to .c files.
hits=$(grep -nE '^\s*#\s*if.*CONFIG_PCI_P2PMEM' $(echo "$cfiles" | grep '\.c$'))
for p in patches/*.patch; do
	hits+=$(awk -v p="$p" '/^\+\+\+ /{f=$2} /^\+[ \t]*#[ \t]*if.*CONFIG_PCI_P2PMEM/ && f ~ /\.c$/ {print p": "f": "$0}' "$p")
done
if [ -n "$hits" ]; then
	bad "no #ifdef CONFIG_PCI_P2PMEM in .c files"; echo "$hits" | sed 's/^/    /'
else
	ok "no #ifdef CONFIG_PCI_P2PMEM in .c files"
fi

ours='drivers/pci/p2pmem/|include/linux/p2pmem\.h'
obj=$B/obj-debug
targets=(drivers/pci/p2pmem/ drivers/nvme/host/pci.o kernel/dma/mapping.o kernel/dma/direct.o)

log "static: sparse on drivers/pci/p2pmem/, nvme-pci and the patched kernel/dma/ files"
if ! command -v sparse > /dev/null; then
	bad "sparse C=2: sparse is not installed"
elif ! "${KMAKE[@]}" -C "$SRC" O="$obj" C=2 "${targets[@]}" > "$L/sparse.log" 2>&1; then
	bad "sparse C=2: make failed (log $L/sparse.log)"; tail -5 "$L/sparse.log" | sed 's/^/    /'
else
	# In the base files we patch, a warning counts when its line is one
	# our patches add; the base's own are shown as notes.
	mine=$(grep -E "($ours).*(warning|error)" "$L/sparse.log")
	while IFS= read -r w; do
		f=${w%%:*} f=${f#"$SRC/"} n=$(echo "$w" | cut -d: -f2)
		line=$(sed -n "${n}p" "$SRC/$f")
		if grep -qxF -- "+$line" patches/*.patch; then
			mine+=$'\n'"$w"
		else
			echo "    note, base $f: ${w#*: }"
		fi
	done < <(grep -E "(drivers/nvme/host/pci\.c|kernel/dma/(mapping|direct)\.c).*(warning|error)" "$L/sparse.log")
	if [ -n "$mine" ]; then
		bad "sparse C=2"; echo "$mine" | sed 's/^/    /'
	else
		ok "sparse C=2 (log $L/sparse.log)"
	fi
fi

log "static: W=1 build of drivers/pci/p2pmem/ and nvme-pci"
if ! "${KMAKE[@]}" -C "$SRC" O="$obj" W=1 drivers/pci/p2pmem/ drivers/nvme/host/pci.o > "$L/w1.log" 2>&1; then
	bad "make W=1: make failed (log $L/w1.log)"; tail -5 "$L/w1.log" | sed 's/^/    /'
elif grep -E "($ours).*warning" "$L/w1.log"; then
	bad "make W=1"
else
	ok "make W=1 (log $L/w1.log)"
fi
grep -E 'drivers/nvme/host/pci\.c.*warning' "$L/w1.log" | sed 's/^/    note, base nvme-pci: /' | head -5
# Put the objects back as the normal build makes them.
"${KMAKE[@]}" -C "$SRC" O="$obj" drivers/pci/p2pmem/ drivers/nvme/host/pci.o > /dev/null 2>&1

log "static: coccicheck on drivers/pci/p2pmem/ (about 2 minutes)"
if ! command -v spatch > /dev/null; then
	bad "coccicheck: spatch (coccinelle) is not installed"
elif ! "${KMAKE[@]}" -C "$SRC" coccicheck MODE=report M=drivers/pci/p2pmem > "$L/coccicheck.log" 2>&1; then
	bad "coccicheck: make failed (log $L/coccicheck.log)"; tail -5 "$L/coccicheck.log" | sed 's/^/    /'
elif ! grep -q 'spatch' "$L/coccicheck.log" && ! grep -qi 'cocci' "$L/coccicheck.log"; then
	bad "coccicheck ran no semantic patch (log $L/coccicheck.log)"
elif grep -E '^drivers/pci/p2pmem/|^\./|: (WARNING|ERROR)' "$L/coccicheck.log" | grep -v '^Please check'; then
	bad "coccicheck (log $L/coccicheck.log)"
else
	ok "coccicheck (log $L/coccicheck.log)"
fi

# CONFIG_PCI_P2PMEM=n changes autoconf.h, which every object includes, so
# a whole kernel would be a cold build. Build the objects that see our
# headers or our patched code instead, and require that none of them
# needs a p2pmem symbol: with p2pmem off, every call must be a stub.
log "static: objects that see p2pmem, built with CONFIG_PCI_P2PMEM=n (about 2 minutes)"
nop=$B/obj-nop2pmem
# and those our patches edit (of them, those the scenario kernel builds:
# the base's own P2PDMA files mention p2pmem too)
seen=$(cd "$SRC" && grep -rlE 'linux/p2pmem\.h|CONFIG_PCI_P2PMEM|p2pmem_' --include='*.c' \
	drivers kernel lib mm block | grep -v '^drivers/pci/p2pmem/' | sed 's/\.c$/.o/' |
	cat - <(sed -n 's|^+++ b/\(.*\)\.c$|\1.o|p' "$top"/patches/*.patch) |
	while read -r o; do [ -f "$obj/$o" ] && echo "$o"; done | sort -u)
if [ -z "$seen" ]; then
	bad "build with CONFIG_PCI_P2PMEM=n: found no object that uses p2pmem"
elif "$top/harness/build-kernel.sh" --config-only "$SRC" "$nop" harness/configs/scenario.config \
		harness/configs/p2pmem-off.config > "$L/nop2pmem.log" 2>&1 &&
	! grep -q '^CONFIG_PCI_P2PMEM=y' "$nop/.config" &&
	"${KMAKE[@]}" -C "$SRC" O="$nop" prepare >> "$L/nop2pmem.log" 2>&1 &&
	"${KMAKE[@]}" -C "$SRC" O="$nop" $seen lib/scatterlist.o >> "$L/nop2pmem.log" 2>&1; then
	undef=$(cd "$nop" && nm -u $seen lib/scatterlist.o 2>/dev/null | grep -E ' (__)?p2pmem_' | sort -u)
	if [ -n "$undef" ]; then
		bad "with CONFIG_PCI_P2PMEM=n, objects still call p2pmem:"; echo "$undef" | sed 's/^/    /'
	else
		ok "CONFIG_PCI_P2PMEM=n: $(echo $seen | wc -w) objects build and need no p2pmem symbol ($(echo $seen | tr '\n' ' '))"
	fi
else
	bad "build with CONFIG_PCI_P2PMEM=n (log $L/nop2pmem.log)"
	grep -E 'error|Error' "$L/nop2pmem.log" | head -10 | sed 's/^/    /'
fi
done_
