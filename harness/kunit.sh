#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the p2pmem KUnit suites with kunit.py on QEMU (q35 with the topology
# of tools/testing/kunit/qemu_configs/x86_64_p2pmem.py).
#   kunit.sh          build with .kunitconfig, run on dma-direct, then
#                     again with -device intel-iommu
#   kunit.sh debug    run them on the debug kernel in build/obj-debug
. "$(dirname "$0")/env.sh"
SRC=$B/linux-source-6.1
R=$B/results
QC=tools/testing/kunit/qemu_configs/x86_64_p2pmem.py
export PATH=$PATH	# kunit.py calls make and qemu from PATH

# Count the cases of a kunit.py log; scan the console for splats.
tally() {	# tally NAME LOG CONSOLE
	local sum p f s c splat
	sum=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$2" | tail -1)
	p=$(echo "$sum" | sed -n 's/.*passed: \([0-9]*\).*/\1/p')
	f=$(echo "$sum" | sed -n 's/.*failed: \([0-9]*\).*/\1/p')
	c=$(echo "$sum" | sed -n 's/.*crashed: \([0-9]*\).*/\1/p')
	s=$(echo "$sum" | sed -n 's/.*skipped: \([0-9]*\).*/\1/p')
	p=${p:-0} f=$(( ${f:-0} + ${c:-0} )) s=${s:-0}
	[ -n "$sum" ] || f=$((f + 1))
	splat=$(grep -E 'BUG:|WARNING:|KASAN|circular locking|inconsistent lock|Kernel panic|general protection' "$3" 2>/dev/null | head -5)
	if [ -n "$splat" ]; then
		echo "  $1: kernel splat:"; echo "$splat" | sed 's/^/    /'
		f=$((f + 1))
	fi
	grep -E '^\[[0-9:]+\] +\[(PASSED|FAILED|SKIPPED|CRASHED)\]' "$2" | sed "s/^/  $1: /"
	echo "  $1: ${sum:-no summary (see $2)}"
	echo "$p $f $s" > "$R/$1"
}

cd "$SRC" || exit 1
if [ "${1:-}" = debug ]; then
	./tools/testing/kunit/kunit.py exec --arch=x86_64 --build_dir="$B/obj-debug" \
		--qemu_config="$QC" --timeout 900 'p2pmem*' > "$B/logs/kunit-debug.log" 2>&1
	tally kunit-debug "$B/logs/kunit-debug.log" "$B/obj-debug/test.log"
	exit 0
fi

./tools/testing/kunit/kunit.py run --arch=x86_64 --build_dir="$B/obj-kunit" \
	--kunitconfig=drivers/pci/p2pmem/.kunitconfig --qemu_config="$QC" \
	--make_options CC="ccache gcc" --jobs "$JOBS" --timeout 600 \
	> "$B/logs/kunit-direct.log" 2>&1
tally kunit-dma-direct "$B/logs/kunit-direct.log" "$B/obj-kunit/test.log"
./tools/testing/kunit/kunit.py exec --arch=x86_64 --build_dir="$B/obj-kunit" \
	--qemu_config="$QC" --qemu_args='-device intel-iommu' --timeout 600 \
	> "$B/logs/kunit-iommu.log" 2>&1
tally kunit-intel-iommu "$B/logs/kunit-iommu.log" "$B/obj-kunit/test.log"
exit 0
