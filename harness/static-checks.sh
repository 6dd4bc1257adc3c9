#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static gates, one counted check each: checkpatch --strict on every file
# and every exported patch, sparse (C=2), W=1, coccicheck, kernel-doc, no
# #ifdef CONFIG_PCI_P2PMEM in .c files, and a build with PCI_P2PMEM=n.
set -uo pipefail
. "$(dirname "$0")/env.sh"
SRC=$B/linux-source-6.1
R=$B/results
L=$B/logs
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  static: ok: $*"; }
bad() { fail=$((fail + 1)); echo "  static: not ok: $*"; }

cd "$top"
cfiles=$(find drivers include kernel lib mm -name '*.[ch]' 2>/dev/null | sort)
obj=$B/obj-debug
[ -f "$obj/arch/x86/boot/bzImage" ] || obj=$B/obj-scenario

for f in $cfiles; do
	out=$("$SRC/scripts/checkpatch.pl" --strict --no-tree --terse -q -f "$f" 2>&1 | grep -E ": (ERROR|WARNING|CHECK):")
	if [ -z "$out" ]; then ok "checkpatch --strict $f"; else bad "checkpatch --strict $f"; echo "$out" | head -10 | sed 's/^/    /'; fi
	out=$("$SRC/scripts/kernel-doc" -none "$f" 2>&1)
	if [ -z "$out" ]; then ok "kernel-doc -none $f"; else bad "kernel-doc -none $f"; echo "$out" | head -10 | sed 's/^/    /'; fi
done
for p in "$B"/series/0[0-9][0-9][1-9]-*.patch; do
	[ -f "$p" ] || continue
	out=$("$SRC/scripts/checkpatch.pl" --strict --no-tree --terse -q "$p" 2>&1 | grep -E ": (ERROR|WARNING|CHECK):")
	if [ -z "$out" ]; then ok "checkpatch --strict $(basename "$p")"; else bad "checkpatch --strict $(basename "$p")"; echo "$out" | head -10 | sed 's/^/    /'; fi
done

if grep -n '#if.*CONFIG_PCI_P2PMEM' $(echo "$cfiles" | grep '\.c$') patches/*.patch | grep '^[^:]*\.c:\|^+'; then
	bad "no #ifdef CONFIG_PCI_P2PMEM in .c files"
else
	ok "no #ifdef CONFIG_PCI_P2PMEM in .c files"
fi

ours='drivers/pci/p2pmem/|include/linux/p2pmem\.h'
log "static: sparse on drivers/pci/p2pmem/ and nvme-pci"
"${KMAKE[@]}" -C "$SRC" O="$obj" C=2 drivers/pci/p2pmem/ drivers/nvme/host/pci.o > "$L/sparse.log" 2>&1
if grep -E "($ours|drivers/nvme/host/pci\.c).*(warning|error)" "$L/sparse.log"; then bad "sparse C=2"; else ok "sparse C=2 (log $L/sparse.log)"; fi

log "static: W=1 build of drivers/pci/p2pmem/ and nvme-pci"
"${KMAKE[@]}" -C "$SRC" O="$obj" W=1 drivers/pci/p2pmem/ drivers/nvme/host/pci.o > "$L/w1.log" 2>&1
st=$?
if [ $st != 0 ] || grep -E "($ours).*warning" "$L/w1.log"; then bad "make W=1"; else ok "make W=1 (log $L/w1.log)"; fi
grep -E 'drivers/nvme/host/pci\.c.*warning' "$L/w1.log" | sed 's/^/    note, base nvme-pci: /' | head -5
# Put the objects back as the normal build makes them.
"${KMAKE[@]}" -C "$SRC" O="$obj" drivers/pci/p2pmem/ drivers/nvme/host/pci.o > /dev/null 2>&1

log "static: coccicheck on drivers/pci/p2pmem/ (about 2 minutes)"
"${KMAKE[@]}" -C "$SRC" coccicheck MODE=report M=drivers/pci/p2pmem > "$L/coccicheck.log" 2>&1
st=$?
if [ $st != 0 ] || grep -E '^drivers/pci/p2pmem/|^\./|: (WARNING|ERROR)' "$L/coccicheck.log" | grep -v '^Please check'; then
	bad "coccicheck (log $L/coccicheck.log)"
else
	ok "coccicheck (log $L/coccicheck.log)"
fi

log "static: build with CONFIG_PCI_P2PMEM=n (mostly ccache hits, 2-3 minutes)"
if "$top/harness/build-kernel.sh" "$SRC" "$B/obj-nop2pmem" harness/configs/scenario.config harness/configs/p2pmem-off.config > "$L/nop2pmem.log" 2>&1 &&
   ! grep -q '^CONFIG_PCI_P2PMEM=y' "$B/obj-nop2pmem/.config"; then
	ok "build with CONFIG_PCI_P2PMEM=n"
else
	bad "build with CONFIG_PCI_P2PMEM=n (log $L/nop2pmem.log)"
	tail -5 "$L/nop2pmem.log"
fi
echo "$pass $fail 0" > "$R/static"
exit 0
