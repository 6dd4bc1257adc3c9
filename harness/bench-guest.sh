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
echo "BENCH-END rc=$rc"
