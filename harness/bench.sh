#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the cost of dma_map_sg() + dma_unmap_sg() through p2pmem's
# DMA shim, against the operations the shim stacks on and against the
# base's own P2PDMA (upstream's design, where each DMA backend maps P2PDMA
# pages itself). Not part of make check.
#
#   bench.sh      env: BENCH_CLOCK (both, the default, in one table; icount:
#                 QEMU -icount shift=0, so a guest nanosecond is one guest
#                 instruction and the figures do not depend on the host's
#                 load; wall: TCG in real time), BENCH_ITERS (loops of a
#                 1-entry sgl, default 20000; an n-entry sgl runs
#                 BENCH_ITERS/n times), BENCH_BOOTS (boots of each kernel
#                 and backend in wall-clock mode, best taken; default 2;
#                 icount boots once), BENCH_TIMEOUT (seconds per QEMU
#                 run, default 900), BENCH_PARTS (a comma-separated list of
#                 dma, copy and fabrics, the three benchmarks below; default
#                 all three)
#
# Builds two kernels: the series with CONFIG_PCI_P2PMEM_BENCH
# (build/obj-bench) and the pristine base with CONFIG_PCI_P2PDMA
# (build/linux-source-6.1-base, build/obj-bench-p2pdma) plus the baseline
# module tools/testing/selftests/drivers/pci/p2pmem/bench/p2pdma_bench.c.
# Boots each on q35 (TCG) twice, on dma-direct and with -device
# intel-iommu, and prints one table of the results. Logs: build/logs/bench-*.
#
# Then the copy benchmark: make check's scenario kernel on its default
# topology (build/obj-scenario) runs copy-bench.sh of the scenarios (p2pmem-copy through the CMB
# and through host memory, every copy checked), on dma-direct and under
# intel-iommu, and a second table gives throughput, CPU time per MiB and
# host-memory bytes mapped per MiB, as p2p/host ratios. Logs:
# build/logs/copy-bench-*.
#
# Then the NVMe-oF benchmark: the same kernel boots the fabrics pair
# (harness/run-fabrics.sh with fabrics-bench-target.sh and
# fabrics-bench-host.sh): the host writes and reads back over TCP a
# namespace with p2pmem and one without, on the same backing NVMe, and a
# third table gives, per MiB moved, the target's CPU time and the host
# memory its backing NVMe mapped for the payload. Logs:
# build/logs/fabrics-bench-*.
set -euo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/base.env"
SRC=$B/linux-source-6.1
BASE=$B/linux-source-6.1-base
W=$B/bench
OBJ=$B/obj-bench
OBJ_BASE=$B/obj-bench-p2pdma
MOD_SRC=$top/tools/testing/selftests/drivers/pci/p2pmem/bench
iters=${BENCH_ITERS:-20000}
clock=${BENCH_CLOCK:-both}
case $clock in
both) clocks="icount wall" ;;
icount | wall) clocks=$clock ;;
*) echo "bench: BENCH_CLOCK must be both, icount or wall" >&2; exit 1 ;;
esac
boots=${BENCH_BOOTS:-2}
tmo=${BENCH_TIMEOUT:-900}
parts=${BENCH_PARTS:-dma,copy,fabrics}
for p in ${parts//,/ }; do
	case $p in
	dma | copy | fabrics) ;;
	*) echo "bench: BENCH_PARTS is a list of dma, copy and fabrics, not '$p'" >&2; exit 1 ;;
	esac
done
start=$(date +%s)
mkdir -p "$W" "$B/logs"

# pcie.0 - ioh3420 - x3130 switch - ivshmem-plain, 64 MiB BAR 2 (provider)
#                                 - NVMe, no CMB (client)
bench_topology=(
	-smp 1 -m 1G
	-device ioh3420,id=rp1,bus=pcie.0,chassis=1,slot=1
	-device x3130-upstream,id=up1,bus=rp1
	-device xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=0
	-device xio3130-downstream,id=dn2,bus=up1,chassis=2,slot=1
	-object memory-backend-ram,id=m0,size=64M
	-device ivshmem-plain,memdev=m0,bus=dn1
	-blockdev driver=null-co,node-name=nb1,size=67108864
	-device nvme,serial=bench,drive=nb1,bus=dn2
)
# Their PCI addresses in the guest: rp1 gets bus 1, the upstream port bus
# 2, the downstream ports buses 3 and 4 (bench-guest.sh prints what it
# found; the baseline module finds the same pair).
bench_provider=0000:03:00.0
bench_client=0000:04:00.0

dma_bench() {
log "bench: two kernels to build (cold: about 6 minutes each on 2 cores," \
	"seconds when nothing changed), then QEMU runs (TCG): 4 counting instructions, $((4 * boots)) in real time"

# The series' kernel, with the benchmark built in.
"$top/harness/build-kernel.sh" "$SRC" "$OBJ" \
	"$top/harness/configs/scenario.config" "$top/harness/configs/bench.config"

# The baseline: the base as packaged, without the series.
have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || echo unknown)
if [ ! -f "$BASE/.p2pmem-base-$have" ]; then
	log "bench: extracting $BASE_PKG $have into $BASE (about 10 s, once)"
	rm -rf "$BASE"
	mkdir -p "$BASE"
	tar xf "$BASE_TARBALL" -C "$BASE" --strip-components=1
	touch "$BASE/.p2pmem-base-$have"
fi
# The one patch of the series the baseline gets: the DMA map benchmark's
# scatterlist kinds (benchmark code only, nothing on the mapping path), so
# that the standard tool measures both implementations.
mbpatch=$top/patches/0023-dma-mapping-benchmark-scatterlists-of-host-and-p2p-memory.patch
if ! cmp -s "$mbpatch" "$BASE/.p2pmem-mapbench.patch"; then
	if [ -f "$BASE/.p2pmem-mapbench.patch" ]; then
		patch -d "$BASE" -p1 -R -s < "$BASE/.p2pmem-mapbench.patch"
		rm -f "$BASE/.p2pmem-mapbench.patch"
	fi
	patch -d "$BASE" -p1 -s --no-backup-if-mismatch < "$mbpatch"
	cp "$mbpatch" "$BASE/.p2pmem-mapbench.patch"
fi
# scenario.config without the symbols only the series has.
grep -v '^CONFIG_PCI_P2PMEM' "$top/harness/configs/scenario.config" > "$W/scenario-base.config.new"
cmp -s "$W/scenario-base.config.new" "$W/scenario-base.config" ||
	mv "$W/scenario-base.config.new" "$W/scenario-base.config"
rm -f "$W/scenario-base.config.new"
"$top/harness/build-kernel.sh" "$BASE" "$OBJ_BASE" \
	"$W/scenario-base.config" "$top/harness/configs/bench-p2pdma.config"

log "bench: baseline module p2pdma_bench.ko"
mkdir -p "$W/p2pdma_bench"
for f in Kbuild p2pdma_bench.c; do
	cmp -s "$MOD_SRC/$f" "$W/p2pdma_bench/$f" || cp "$MOD_SRC/$f" "$W/p2pdma_bench/$f"
done
# "modules" writes the Module.symvers that external modules link against.
if ! { "${KMAKE[@]}" -C "$BASE" O="$OBJ_BASE" modules &&
       "${KMAKE[@]}" -C "$BASE" O="$OBJ_BASE" M="$W/p2pdma_bench" modules; } \
       > "$B/logs/bench-module.log" 2>&1; then
	tail -30 "$B/logs/bench-module.log" >&2
	echo "bench: baseline module build failed (log $B/logs/bench-module.log)" >&2
	exit 1
fi
grep -E 'warning:' "$B/logs/bench-module.log" | head -10 || true

# The DMA map benchmark's tool, static for the busybox initramfs.
log "bench: dma_map_benchmark tool"
if ! { "${KMAKE[@]}" -C "$SRC" O="$OBJ" headers &&
       gcc -static -O2 -Wall -I"$OBJ/usr/include" -I"$SRC/include" \
	-o "$W/map_benchmark" "$SRC/tools/testing/selftests/dma/dma_map_benchmark.c"; } \
       > "$B/logs/bench-tool.log" 2>&1; then
	tail -20 "$B/logs/bench-tool.log" >&2
	echo "bench: dma_map_benchmark tool build failed (log $B/logs/bench-tool.log)" >&2
	exit 1
fi

# One initramfs for both kernels: /bench.sh picks the benchmark it finds.
log "bench: initramfs"
bb=/bin/busybox
[ -x "$bb" ] || { echo "bench: $bb missing; install busybox-static" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp}
cp "$bb" "$tmp/bin/busybox"
ln -s busybox "$tmp/bin/sh"
cp "$top/harness/bench-guest.sh" "$tmp/bench.sh"
cp "$W/p2pdma_bench/p2pdma_bench.ko" "$tmp/"
cp "$W/map_benchmark" "$tmp/map_benchmark"
cat > "$tmp/init" <<'EOI'
#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
echo "BENCH-BEGIN"
sh /bench.sh
poweroff -f
EOI
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet) | gzip -1 > "$W/initramfs.cpio.gz"
# The two kernels differ in the P2P implementation only: say so, or what
# else differs.
diff <(grep '^CONFIG_' "$OBJ/.config" | sort) <(grep '^CONFIG_' "$OBJ_BASE/.config" | sort) |
	sed -n 's/^\([<>]\) CONFIG_\(.*\)/\1 \2/p' > "$W/config-diff.txt" || true
log "bench: the two kernels' configs differ in:" \
	"$(awk '{ printf "%s%s", (NR > 1 ? ", " : ""), ($1 == "<" ? "p2pmem " : "base ") $2 }' "$W/config-diff.txt")"

# run <name> <bzImage> <backend> <clock>: boot, bench, collect
# "<clock> <backend> <line>".
: > "$W/results.txt"
: > "$W/mapbench.txt"
run() {
	local name=$1 kernel=$2 backend=$3 clk=$4 logf=$B/logs/bench-$1.log t st
	local iommu=() ov= accel=()
	[ "$clk" = icount ] && accel=(-icount shift=0)
	# Under intel-iommu in a VM, p2pmem does not trust QEMU's switch for
	# the bus address route (see the guide): the benchmark measures the
	# cost of mapping, not the DMA, so it forces the pair's route. The
	# base kernel ignores the parameter.
	[ "$backend" = iommu ] && iommu=(-device intel-iommu) &&
		ov="p2pmem.override=$bench_provider,$bench_client=bus"
	log "bench: $name (TCG: 10 to 60 s with the default BENCH_ITERS; timeout $tmo s)"
	t=$(date +%s)
	st=0
	timeout "$tmo" qemu-system-x86_64 -nographic -nodefaults -serial stdio \
		-no-reboot -machine q35 "${accel[@]}" "${iommu[@]}" "${bench_topology[@]}" \
		-kernel "$kernel" -initrd "$W/initramfs.cpio.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 bench_iters=$iters $ov" \
		< /dev/null > "$logf" 2>&1 || st=$?
	tr -d '\r' < "$logf" > "$logf.txt"
	grep -E '^(# |BENCH-DEVICES)' "$logf.txt" | sed "s/^/  $name: /" || true
	if ! grep -q "^BENCH-DEVICES provider=$bench_provider client=$bench_client " "$logf.txt"; then
		echo "  $name: the guest's devices are not $bench_provider and $bench_client" >&2
		failed=$((failed + 1))
	fi
	if ! grep -q '^BENCH-END rc=0' "$logf.txt"; then
		echo "  $name: FAILED (qemu rc $st, log $logf.txt):" >&2
		grep -E 'p2pmem|p2pdma|BENCH|Kernel panic' "$logf.txt" | tail -10 | sed 's/^/    /' >&2
		failed=$((failed + 1))
	fi
	if grep -E 'BUG:|WARNING:|KASAN|Kernel panic|general protection' "$logf.txt" | head -5 | sed "s/^/  $name: splat: /" | grep .; then
		failed=$((failed + 1))
	fi
	grep -E '^(p2pmem|p2pdma) [a-z-]+ (sg|page|sync) (host|p2p|half) [0-9]+ [0-9.]+( [0-9]+)?$' "$logf.txt" |
		sed "s/^/$clk $backend /" >> "$W/results.txt" || true
	if ! grep -E '^mapbench (host|p2p|mixed) [0-9]+ [0-9.]+ [0-9.]+$' "$logf.txt" |
		sed "s/^/$clk $backend ${name%%-*} /" >> "$W/mapbench.txt"; then
		echo "  $name: no dma_map_benchmark results (log $logf.txt)" >&2
		failed=$((failed + 1))
	fi
	log "bench: $name done in $(( $(date +%s) - t )) s"
}
# The boots take turns, so that a slow spell of the host spoils one of each.
for clk in $clocks; do
	n=1
	[ "$clk" = wall ] && n=$boots
	for k in $(seq "$n"); do
		run "p2pmem-direct-$clk-$k" "$OBJ/arch/x86/boot/bzImage" direct "$clk"
		run "p2pmem-iommu-$clk-$k" "$OBJ/arch/x86/boot/bzImage" iommu "$clk"
		run "p2pdma-direct-$clk-$k" "$OBJ_BASE/arch/x86/boot/bzImage" direct "$clk"
		run "p2pdma-iommu-$clk-$k" "$OBJ_BASE/arch/x86/boot/bzImage" iommu "$clk"
	done
done

echo
echo "DMA API cost per operation pair, PAGE_SIZE entries, DMA_TO_DEVICE, guest ns"
echo "(best of 7 runs; icount: QEMU TCG with -icount shift=0, a guest ns is one"
echo " guest instruction: reproducible and independent of the host's load, but"
echo " blind to cache misses, mispredictions and the cost of atomics and MMIO;"
echo " wall: TCG in real time, best of $boots boots: sees what emulation costs,"
echo " sensitive to code layout and to a busy host, and TCG's costs are not a"
echo " CPU's)"
awk -v clocks="$clocks" '
function r(a, b) { return (a == "" || b == "" || b == 0) ? "" : a / b }
function cell(x) { return x == "" ? "-" : sprintf("%.1f", x) }
function ratio(x) { return x == "" ? "-" : sprintf("%.3f", x) }
function verdict(x, t) {
	if (t == "" || x == "")
		return ""
	if (x <= t + 0) { met++; return "met" }
	notmet++
	return "NOT met"
}
{
	# <clock> <backend> p2pmem <path> <op> <kind> <nents> <ns>
	# <clock> <backend> p2pmem calls <op> <kind> <nents> <map> <unmap>
	# <clock> <backend> p2pdma api <op> <kind> <nents> <ns>
	if ($4 == "calls") {
		calls[$2, $5, $6, $7] = $8 "/" $9
		if ($5 == "sg" && $1 == "icount") {
			if ($8 + 0 > ($6 == "p2p" ? 0 : 1)) callbad++
			else callok++
		}
		next
	}
	path = $3 == "p2pdma" ? "base" : $4
	k = $1 SUBSEP $2 SUBSEP path SUBSEP $5 SUBSEP $6 SUBSEP $7
	if (!(k in v) || $8 + 0 < v[k])
		v[k] = $8 + 0
	seen = 1
}
END {
	if (!seen) { print "no results"; exit 1 }
	wall = clocks ~ /wall/
	ic = clocks ~ /icount/
	c = ic ? "icount" : "wall"
	printf "%-6s %-4s %-4s %5s %-6s | %9s %9s %7s %-6s %-7s | %7s | %9s %7s | %s\n",
		"backend", "op", "kind", "nents", "path", "p2pmem", "base",
		"ratio", "target", "", "wall", "orig", "/orig", "calls"
	split("direct iommu", bs, " ")
	n = split("sg host 1,sg host 16,sg host 256,sg p2p 1,sg p2p 16,sg p2p 256," \
		"sg half 1,sg half 16,sg half 256,page host 1,page p2p 1," \
		"sync host 16,sync p2p 16,sync half 16", cs, ",")
	for (bi = 1; bi <= 2; bi++) for (ci = 1; ci <= n; ci++) {
		split(cs[ci], f, " ")
		b = bs[bi]; op = f[1]; kd = f[2]; ne = f[3]
		for (pi = 1; pi <= 2; pi++) {
			p = pi == 1 ? "noprov-api" : "shim"
			if (p == "noprov-api" && kd != "host")
				continue
			x = v[c, b, p, op, kd, ne]; base = v[c, b, "base", op, kd, ne]
			t = ""
			if (op == "sg" && p == "noprov-api") t = 1.005
			else if (op == "sg" && kd == "host") t = 1.03
			else if (op == "sg" && kd == "p2p") t = 0.8
			else if (op == "sg") t = 1.0
			ro = r(x, base)
			wx = r(v["wall", b, p, op, kd, ne], v["wall", b, "base", op, kd, ne])
			o = p == "shim" ? v[c, b, "orig", op, kd, ne] : v[c, b, "noprov-direct", op, kd, ne]
			printf "%-6s %-4s %-4s %5s %-6s | %9s %9s %7s %-6s %-7s | %7s | %9s %7s | %s\n",
				b, op, kd, ne, p == "shim" ? "shim" : "noprov",
				cell(x), cell(base), ratio(ro), t == "" ? "-" : "<=" t,
				verdict(ro, t), wall ? ratio(wx) : "-",
				cell(o), ratio(r(x, o)),
				p == "shim" && ((b, op, kd, ne) in calls) ? calls[b, op, kd, ne] : "-"
		}
	}
	print ""
	print "p2pmem = the series kernel through the DMA API: noprov before any provider"
	print "exists, shim once the client has the shim; base = the base kernel without the"
	print "series (its own CONFIG_PCI_P2PDMA; for host pages the unpatched DMA API). Both"
	print "kernels have the same config but for the P2P implementation (printed above);"
	print "host pages are every other page of one block in both."
	print "ratio = p2pmem / base (" c "); wall = the same ratio in real time."
	print "orig = the operations the shim stacks on (dma-direct or intel-iommu) called"
	print "directly in the series kernel, without the DMA API layer; /orig = p2pmem / orig."
	print "calls = calls of the original operations per map/unmap through the shim"
	print "(map_sg + map_page / unmap_sg + unmap_page)."
	print "targets (sg): noprov <= 1.005 (no provider: the cost of the patched-out"
	print "jump of the guard, one instruction per map); shim host <= 1.03; p2p <= 0.80;"
	print "half <= 1.00; original-ops calls per map <= 1 (0 for p2p). page and sync have"
	print "no target."
	printf "targets met: %d, not met: %d; calls per sgl within target: %d, beyond: %d\n",
		met, notmet, callok, callbad
	if (!notmet)
		exit 0
	# Why a target is not met, measured: each cost as a fixed part and a
	# part per entry, from its figures at 16 and 256 entries (at 1 entry a
	# half list holds no p2pmem), and where the two lines cross the target.
	print ""
	print "why not met (" c "; cost = fixed + per entry * nents, fitted at 16 and 256"
	print "entries; over = p2pmem less base, each part; misses = the sizes measured"
	print "that miss the target; the fit meets it: at any size, from N entries on, up"
	print "to N entries, or never):"
	printf "%-7s %-4s %-6s | %9s %8s | %9s %8s | %8s %8s | %-9s | %s\n", "backend",
		"kind", "path", "fixed", "/entry", "base fix", "/entry", "over fix",
		"/entry", "misses", "the fit meets it"
	for (bi = 1; bi <= 2; bi++) for (ki = 1; ki <= 4; ki++) {
		b = bs[bi]
		kd = ki == 4 ? "host" : ki == 1 ? "host" : ki == 2 ? "p2p" : "half"
		p = ki == 4 ? "noprov-api" : "shim"
		t = p == "noprov-api" ? 1.005 : kd == "host" ? 1.03 : kd == "p2p" ? 0.8 : 1.0
		miss = ""
		split("1 16 256", ns, " ")
		for (i = 1; i <= 3; i++) {
			x = r(v[c, b, p, "sg", kd, ns[i]], v[c, b, "base", "sg", kd, ns[i]])
			if (x != "" && x > t) miss = miss (miss == "" ? "" : ",") ns[i]
		}
		if (miss == "")
			continue
		x1 = v[c, b, p, "sg", kd, 16]; x2 = v[c, b, p, "sg", kd, 256]
		b1 = v[c, b, "base", "sg", kd, 16]; b2 = v[c, b, "base", "sg", kd, 256]
		if (x1 == "" || x2 == "" || b1 == "" || b2 == "")
			continue
		pe = (x2 - x1) / 240; fx = x1 - 16 * pe
		bpe = (b2 - b1) / 240; bfx = b1 - 16 * bpe
		# Met where fx + pe * n <= t * (bfx + bpe * n), that is where
		# ex <= mg * n: ex the fixed cost over the target, mg the margin
		# the target leaves per entry.
		ex = fx - t * bfx; mg = t * bpe - pe
		if (ex <= 0 && mg >= 0) fit = "at any size"
		else if (ex > 0 && mg > 0) {
			q = ex / mg; n0 = int(q); if (n0 < q) n0++
			fit = sprintf("from %.0f entries on", n0)
		} else if (ex <= 0) {
			q = ex / mg; n0 = int(q)
			fit = sprintf("up to %.0f entries", n0)
		} else fit = "never"
		printf "%-7s %-4s %-6s | %9.1f %8.2f | %9.1f %8.2f | %+8.1f %+8.2f | %-9s | %s\n",
			b, kd, p == "shim" ? "shim" : "noprov", fx, pe, bfx, bpe,
			fx - bfx, pe - bpe, miss, fit
	}
}' "$W/results.txt" | tee "$W/table.txt" || failed=$((failed + 1))

echo
echo "The kernel's DMA map benchmark (tools/testing/selftests/dma/dma_map_benchmark"
echo "-t 1 -s 1 -k KIND -N 16 -P provider): one thread maps and unmaps 16-entry lists"
echo "for one guest second; average us per dma_map_sgtable() and per unmap, best of"
echo "the boots; p2pmem = the shim, base = the base's P2PDMA."
awk '
{
	# <clock> <backend> <p2pmem|p2pdma> mapbench <kind> <nents> <map> <unmap>
	k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $5
	t = $7 + $8
	if (!(k in v) || t < v[k]) { v[k] = t; m[k] = $7; u[k] = $8 }
	seen = 1
}
END {
	if (!seen) { print "no results"; exit 1 }
	printf "%-6s %-6s %-5s | %15s %15s | %s\n", "clock", "backend", "kind",
		"p2pmem map+unm", "base map+unm", "p2pmem/base"
	split("icount wall", cs, " "); split("direct iommu", bs, " ")
	split("host p2p mixed", ks, " ")
	for (ci = 1; ci <= 2; ci++) for (bi = 1; bi <= 2; bi++) for (ki = 1; ki <= 3; ki++) {
		a = cs[ci] SUBSEP bs[bi] SUBSEP "p2pmem" SUBSEP ks[ki]
		b = cs[ci] SUBSEP bs[bi] SUBSEP "p2pdma" SUBSEP ks[ki]
		if (!(a in v) && !(b in v))
			continue
		printf "%-6s %-6s %-5s | %6.1f+%-8.1f %6.1f+%-8.1f | %s\n", cs[ci], bs[bi],
			ks[ki], m[a], u[a], m[b], u[b],
			((a in v) && (b in v) && v[b] > 0 ? sprintf("%.3f", v[a] / v[b]) : "-")
	}
}' "$W/mapbench.txt" | tee "$W/mapbench-table.txt" || failed=$((failed + 1))
}

copy_bench() {
# The copy benchmark: make check's scenario kernel on the default topology,
# the scenario initramfs, copy-bench.sh of the scenarios (judged like any
# scenario: every copy's data is checked), on dma-direct and under
# intel-iommu with the pair overridden to the host bridge route.
log "bench: copy benchmark: make check's scenario kernel and initramfs," \
	"then 2 QEMU runs (TCG in real time: about 2 minutes each)"
"$top/harness/build-kernel.sh" "$SRC" "$B/obj-scenario" \
	"$top/harness/configs/scenario.config"
"$top/harness/mkinitramfs.sh" "$B/initramfs.cpio.gz"
. "$top/harness/topology-default.sh"
: > "$W/copy-results.txt"
copy_run() {
	local backend=$1 res=$W/copy-bench-$1 p f s
	shift
	log "bench: copy-bench-$backend"
	SCENARIO_TIMEOUT=$tmo "$top/harness/run-scenario.sh" "$B/obj-scenario/arch/x86/boot/bzImage" \
		copy-bench "$res" "$@" || true
	read -r p f s < "$res" 2>/dev/null || f=1
	if [ "${f:-1}" != 0 ] || [ "${p:-0}" = 0 ]; then
		echo "  copy-bench-$backend: FAILED (log $B/logs/copy-bench-$backend.log.txt)" >&2
		failed=$((failed + 1))
	fi
	sed -n "s/^# copy-bench /$backend /p" "$B/logs/copy-bench-$backend.log.txt" \
		>> "$W/copy-results.txt"
}
copy_run direct
SCENARIO_IOMMU=yes copy_run iommu "p2pmem.override=$cmb_nvme,$plain_nvme=host"

echo
echo "p2pmem-copy of 32 MiB, O_DIRECT, 128 KiB chunks, 4 threads: NVMe $plain_nvme ->"
echo "buffer -> NVMe $cmb_nvme, the buffer in $cmb_nvme's CMB (p2p) or in host memory"
echo "(host); best of 3 rounds each, taking turns; QEMU TCG in real time, so only"
echo "the ratios mean anything"
awk '
function best(a, b, lower) { return a == "" ? b : (lower ? (b < a ? b : a) : (b > a ? b : a)) }
{
	# <backend> <route> <round> <mib> <s> <proc cpu s> <guest cpu s> <host bytes>
	k = $1 SUBSEP $2
	if ($5 <= 0 || $4 <= 0) next
	tp[k] = best(tp[k], $4 / $5, 0)
	pc[k] = best(pc[k], $6 * 1000 / $4, 1)
	gc[k] = best(gc[k], $7 * 1000 / $4, 1)
	hb[k] = best(hb[k], $8 / $4, 0)
	seen[$1] = 1
}
END {
	printf "%-7s %-5s | %8s %13s %14s %16s\n", "backend", "route", "MiB/s",
		"proc ms/MiB", "guest ms/MiB", "host bytes/MiB"
	n = split("direct iommu", bs, " ")
	for (i = 1; i <= n; i++) {
		b = bs[i]
		if (!(b in seen)) { printf "%-7s no results\n", b; bad = 1; continue }
		for (j = 0; j < 2; j++) {
			r = j ? "host" : "p2p"; k = b SUBSEP r
			printf "%-7s %-5s | %8.2f %13.2f %14.2f %16d\n", b, r,
				tp[k], pc[k], gc[k], hb[k]
		}
		p = b SUBSEP "p2p"; h = b SUBSEP "host"
		printf "%-7s p2p/host: throughput %.3f, proc CPU per MiB %.3f, guest CPU per MiB %.3f\n",
			b, tp[h] ? tp[p] / tp[h] : 0, pc[h] ? pc[p] / pc[h] : 0,
			gc[h] ? gc[p] / gc[h] : 0
		if (hb[p] != 0) { printf "%-7s p2p path mapped host memory for the payload: NOT met\n", b; bad = 1 }
	}
	print ""
	print "host bytes/MiB: host memory the two NVMes mapped for DMA during the copy, per"
	print "MiB copied (their \"host\" counters in /sys/kernel/debug/p2pmem/clients; the"
	print "most of the 3 rounds); target 0 on the p2p path. proc = the copying process"
	print "(user + system), guest = all busy CPU time of the guest (/proc/stat)."
	exit bad
}' "$W/copy-results.txt" | tee "$W/copy-table.txt"
[ "${PIPESTATUS[0]}" = 0 ] || failed=$((failed + 1))
}
fabrics_bench() {
# The NVMe-oF benchmark: make check's scenario kernel, the fabrics pair.
log "bench: NVMe-oF benchmark: make check's scenario kernel and initramfs," \
	"then one pair of QEMU guests (TCG in real time: about 2 minutes)"
"$top/harness/build-kernel.sh" "$SRC" "$B/obj-scenario" \
	"$top/harness/configs/scenario.config"
"$top/harness/mkinitramfs.sh" "$B/initramfs.cpio.gz"
local res p f s side tr ok=1
: > "$W/fabrics-results.txt"
for tr in tcp rdma; do
	res=$W/fabrics-bench-$tr
	log "bench: fabrics-bench over NVMe/$tr"
	FABRICS_SCENARIO=fabrics-bench FABRICS_TRANSPORT=$tr SCENARIO_TIMEOUT=$tmo \
		"$top/harness/run-fabrics.sh" "$B/obj-scenario/arch/x86/boot/bzImage" "$res" || true
	for side in target host; do
		read -r p f s < "$res-$side" 2>/dev/null || f=1
		if [ "${f:-1}" != 0 ] || [ "${p:-0}" = 0 ]; then
			echo "  fabrics-bench-$tr-$side: FAILED (log $B/logs/fabrics-bench-$tr-fabrics-bench-$side.log.txt)" >&2
			ok=0
		fi
	done
	sed -n "s/^# fabrics-bench /$tr /p" "$B/logs/fabrics-bench-$tr-fabrics-bench-target.log.txt" \
		>> "$W/fabrics-results.txt"
done
[ $ok = 1 ] || failed=$((failed + 1))
echo
echo "NVMe-oF between two guests, over TCP and over RDMA on soft RoCE (rxe): the"
echo "host writes MIB MiB with O_DIRECT (128 KiB"
echo "requests) and reads it back, to a namespace with p2pmem=auto (the target's"
echo "buffers in the CMB beside the backing NVMe) and to one with p2pmem=0 on the"
echo "same NVMe; best of 3 rounds each, taking turns; QEMU TCG in real time"
awk '
function best(a, b, lower) { return a == "" ? b : (lower ? (b < a ? b : a) : (b > a ? b : a)) }
{
	# <transport> <kind> <round> <mib> <s> <target cpu s> <host bytes> <p2p reqs> <fallback reqs>
	k = $1 SUBSEP $2; moved = 2 * $4
	if ($5 <= 0 || $4 <= 0) next
	tp[k] = best(tp[k], moved / $5, 0)
	cpu[k] = best(cpu[k], $6 * 1000 / moved, 1)
	hb[k] = best(hb[k], $7 / moved, 0)
	pr[k] += $8; fr[k] += $9; seen[k] = 1
}
END {
	printf "%-4s %-4s | %8s %19s %16s %10s %13s\n", "tr", "ns", "MiB/s",
		"target CPU ms/MiB", "host bytes/MiB", "p2p reqs", "fallback reqs"
	n = split("tcp rdma", trs, " ")
	for (i = 1; i <= n; i++) {
		t = trs[i]
		for (j = 0; j < 2; j++) {
			k = t SUBSEP (j ? "host" : "p2p")
			if (!(k in seen)) { printf "%-4s %-4s no results\n", t, j ? "host" : "p2p"; bad = 1; continue }
			printf "%-4s %-4s | %8.2f %19.2f %16d %10d %13d\n", t, j ? "host" : "p2p",
				tp[k], cpu[k], hb[k], pr[k], fr[k]
		}
		p = t SUBSEP "p2p"; h = t SUBSEP "host"
		if ((p in seen) && (h in seen))
			printf "%-4s p2p/host: throughput %.3f, target CPU per MiB %.3f\n", t,
				tp[h] ? tp[p] / tp[h] : 0, cpu[h] ? cpu[p] / cpu[h] : 0
		if (hb[p] != 0 || fr[p] != 0) { printf "%-4s p2pmem namespace mapped host memory for the payload: NOT met\n", t; bad = 1 }
		if ((p in seen) && pr[p] == 0) { printf "%-4s p2pmem namespace had no request in p2pmem: NOT met\n", t; bad = 1 }
	}
	print ""
	print "MiB moved = written + read. target CPU = all busy CPU time of the target guest"
	print "(/proc/stat: nvmet-tcp workers, softirqs, completions); host bytes = host"
	print "memory the backing NVMe mapped for DMA (its \"host\" counter), the most of the"
	print "3 rounds; target 0 for p2pmem. Reqs: p2pmem_stat, all rounds."
	exit bad
}' "$W/fabrics-results.txt" | tee "$W/fabrics-table.txt"
[ "${PIPESTATUS[0]}" = 0 ] || failed=$((failed + 1))
}
failed=0
case ,$parts, in *,dma,*) dma_bench ;; esac
case ,$parts, in *,copy,*) copy_bench ;; esac
case ,$parts, in *,fabrics,*) fabrics_bench ;; esac
echo
log "bench: done in $(( $(date +%s) - start )) s (tables in $W)"
[ "$failed" = 0 ] || { echo "bench: $failed run(s) failed, see above" >&2; exit 1; }
