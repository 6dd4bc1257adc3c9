# SPDX-License-Identifier: GPL-2.0
# The copy benchmark of `make bench` (not a test of make check): the same
# O_DIRECT copy with tools/p2pmem/p2pmem-copy from the NVMe behind the
# switch to its neighbour, once through a buffer in the neighbour's CMB and
# once through host memory, several rounds taking turns. For each copy it
# prints one line
#   # copy-bench ROUTE ROUND MIB SECONDS PROC_CPU_S SYS_CPU_S HOST_BYTES
# with the copying process's CPU time (user + system, from p2pmem-copy),
# the CPU time of the whole guest (busy time of /proc/stat: user, nice,
# system, irq, softirq, so interrupt and completion work too), and the
# host-memory bytes the two NVMes mapped through the shim meanwhile (their
# "host" counters in /sys/kernel/debug/p2pmem/clients, which count every
# byte of host memory a client maps for DMA: data, not queues). Every copy
# is checked byte for byte afterwards.
#
# Three rounds (harness/expected-results counts their checks); the kernel
# argument copy_bench_mib=MIB sets the size of each copy (default 32).

wait_provider
find_nvmes

arg() {
	v=$(sed -n "s/.*$1=\([0-9]*\).*/\1/p" /proc/cmdline)
	echo "${v:-$2}"
}
mib=$(arg copy_bench_mib 32)
src=$(blk $plain)
dst=$(blk $cmb)
check "each NVMe below the switch has a namespace ($src $dst)" test -n "$src" -a -n "$dst"
# a route the harness's override may have changed: the copy needs one
route=$(verdict $cmb $plain | cut -d' ' -f3)
echo "# $plain -> CMB of $cmb: $(verdict $cmb $plain)"
check "$plain reaches the CMB ($route)" test "$route" != not-supported

chunks=$((mib * 8))
dd if=/dev/urandom of=/tmp/pattern bs=131072 count=$chunks 2>/dev/null
check "$mib MiB of random data written to $src" \
	dd if=/tmp/pattern of=/dev/$src bs=131072 oflag=direct 2>/dev/null

busy() {
	# the guest's busy CPU time so far, in USER_HZ ticks
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
one() {
	# one ROUTE ROUND: the copy, its figures, its data check
	dd if=/dev/zero of=/dev/$dst bs=131072 count=$chunks oflag=direct 2>/dev/null
	if [ "$1" = p2p ]; then buf="-p $cmb"; else buf=-H; fi
	h0=$(($(client_bytes $plain host) + $(client_bytes $cmb host)))
	b0=$(busy)
	out=$(p2pmem-copy $buf -c 128k -n $chunks -t 4 /dev/$src /dev/$dst 2>&1)
	rc=$?
	b1=$(busy)
	h1=$(($(client_bytes $plain host) + $(client_bytes $cmb host)))
	echo "# $out"
	check "$1 copy $2 of $mib MiB succeeds" test $rc = 0
	secs=$(echo "$out" | sed -n 's/.* MiB in \([0-9.]*\) s.*/\1/p')
	cpu=$(echo "$out" | sed -n 's/.* CPU \([0-9.]*\) s .*/\1/p')
	sys=$(awk -v t=$((b1 - b0)) -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" \
		'BEGIN { printf "%.3f", t / hz }')
	echo "# copy-bench $1 $2 $mib ${secs:-0} ${cpu:-0} $sys $((h1 - h0))"
	dd if=/dev/$dst of=/tmp/out bs=131072 count=$chunks iflag=direct 2>/dev/null
	check "$1 copy $2: $dst holds every byte" same /tmp/pattern /tmp/out
}
check "the shim counts host memory (p2pmem.count_host)" count_host Y
r=1
while [ $r -le 3 ]; do
	one p2p $r
	one host $r
	r=$((r + 1))
done
