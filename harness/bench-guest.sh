#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest of "make bench" (as /bench.sh of its initramfs):
# finds the ivshmem provider and the NVMe client, runs the benchmark of
# whichever kernel this is (p2pmem's built-in one, or the baseline module
# on the base kernel) and prints its result lines.
iters=$(sed -n 's/.*bench_iters=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$iters" ] || iters=20000
prov="" client=""
for d in /sys/bus/pci/devices/*; do
	id="$(cat "$d/vendor"):$(cat "$d/device")"
	[ "$id" = 0x1af4:0x1110 ] && prov=${d##*/}
	[ "$(cat "$d/class")" = 0x010802 ] && client=${d##*/}
done
# The NVMe driver sets its DMA mask in its reset work; wait for the disk.
i=0
while [ ! -e /sys/block/nvme0n1 ] && [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
if [ -e /sys/kernel/debug/p2pmem/bench ]; then
	f=/sys/kernel/debug/p2pmem/bench
elif [ -e /sys/kernel/debug/p2pmem_bench/bench ]; then
	f=/sys/kernel/debug/p2pmem_bench/bench
else
	insmod /p2pdma_bench.ko
	f=/sys/kernel/debug/p2pdma_bench/bench
fi
echo "BENCH-DEVICES provider=$prov client=$client driver=$(basename "$(readlink "/sys/bus/pci/devices/$client/driver")") file=$f"
rc=0
echo "$prov $client $iters" > "$f" || rc=1
cat "$f"

# The kernel's own DMA map benchmark with its scatterlist kinds: the
# client is handed to the dma_map_benchmark driver, the provider's BAR is
# registered (p2pmem: through the test client; the base: the baseline
# module above registered it), and 16-entry lists of each kind are mapped
# for a second by one thread.
mb=/sys/kernel/debug/dma_map_benchmark
if [ "$rc" = 0 ] && [ -x /map_benchmark ]; then
	if [ -e /sys/kernel/debug/p2pmem/client ]; then
		echo "register $prov 2" > /sys/kernel/debug/p2pmem/client || rc=1
	fi
	echo "$client" > "/sys/bus/pci/devices/$client/driver/unbind" || rc=1
	echo dma_map_benchmark > "/sys/bus/pci/devices/$client/driver_override" || rc=1
	echo "$client" > /sys/bus/pci/drivers/dma_map_benchmark/bind || rc=1
	[ -e "$mb" ] || { echo "# no $mb"; rc=1; }
	for kind in host p2p mixed; do
		[ "$rc" = 0 ] || break
		if [ "$kind" = host ]; then
			out=$(/map_benchmark -t 1 -s 1 -k host -N 16 2>&1) || rc=1
		else
			out=$(/map_benchmark -t 1 -s 1 -k "$kind" -N 16 -P "$prov" 2>&1) || rc=1
		fi
		echo "$out" | sed 's/^/# map_benchmark: /'
		map=$(echo "$out" | sed -n 's/.*average map latency(us):\([0-9.]*\).*/\1/p')
		unmap=$(echo "$out" | sed -n 's/.*average unmap latency(us):\([0-9.]*\).*/\1/p')
		if [ -n "$map" ] && [ -n "$unmap" ]; then
			echo "mapbench $kind 16 $map $unmap"
		else
			rc=1
		fi
	done
fi
echo "BENCH-END rc=$rc"
