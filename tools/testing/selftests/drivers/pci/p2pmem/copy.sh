# SPDX-License-Identifier: GPL-2.0
# Copy offload end to end, driven by the test client's "copy": the kernel
# reads from the NVMe behind the switch straight into the CMB of its
# neighbour and writes from the CMB to the neighbour's namespace; every
# byte is compared with what was written to the source. Then the baseline
# through host memory, and the copies that must be refused before any
# data moves: to and from the NVMe on the other root port, and to a loop
# device, whose queue cannot take peer-to-peer memory.
#
# Run without an IOMMU (bus address route) and with intel-iommu and an
# override to the host bridge route (copy-iommu in the harness).

wait_provider

find_nvmes
stats=/sys/kernel/debug/p2pmem/$cmb/stats
p2p=/sys/bus/pci/devices/$cmb/p2pmem

# dd_in DEV OFFSET_MB FILE: read 1 MiB with O_DIRECT into FILE
dd_in() {
	dd if=/dev/$1 of=$3 bs=65536 count=16 skip=$(($2 * 16)) iflag=direct 2>/dev/null
}
# dd_out FILE DEV OFFSET_MB: write FILE's 1 MiB with O_DIRECT
dd_out() {
	dd if=$1 of=/dev/$2 bs=65536 count=16 seek=$(($3 * 16)) oflag=direct 2>/dev/null
}

src=$(blk $plain)
dst=$(blk $cmb)
far=$(blk $other)
check "each NVMe has a namespace ($src $dst $far)" test -n "$src" -a -n "$dst" -a -n "$far"

dd if=/dev/urandom of=/tmp/pattern bs=65536 count=16 2>/dev/null
dd if=/dev/zero of=/tmp/zero bs=65536 count=16 2>/dev/null
# Statistics are read right after each copy: the O_DIRECT reads that
# check the data map host memory themselves.
check "1 MiB of random data written to $src with O_DIRECT" dd_out /tmp/pattern $src 0
check "and to $src at 1 MiB" dd_out /tmp/pattern $src 1
check "the destination range of $dst is zeroed" dd_out /tmp/zero $dst 0
dd_out /tmp/zero $dst 1
dd_out /tmp/zero $far 0

expect_route=bus-address kind=bus
if [ "$(expect_iommu)" = 1 ]; then
	expect_route=host-bridge kind=host_bridge
fi
check "$plain reaches the CMB by the $expect_route route" \
	match "$(verdict $cmb $plain)" " $expect_route "
check "$other cannot reach the CMB" match "$(verdict $cmb $other)" " not-supported "

avail=$(cat $p2p/available)
allocs=$(stat_of allocations $stats)
refused=$(stat_of refused $stats)
p2p_before=$(($(stat_of mapped_bus $stats) + $(stat_of mapped_host_bridge $stats)))
check "the shim counts host memory (p2pmem.count_host)" count_host Y
host_src=$(client_bytes $plain host)
host_dst=$(client_bytes $cmb host)
p2p_src=$(client_bytes $plain $kind)
p2p_dst=$(client_bytes $cmb bus)
echo "# before: $(grep -e "^$plain" -e "^$cmb" /sys/kernel/debug/p2pmem/clients | tr '\n' ' ')"
check "$plain and $cmb have per-client statistics" test -n "$host_src" -a -n "$host_dst"

# The copy offload: $src -> CMB of $cmb -> $dst.
check "copy 1 MiB $src -> CMB -> $dst" \
	write "copy /dev/$src /dev/$dst $cmb 0 1048576" $client
r=$(cat $client)
echo "# $r"
check "the buffer was the CMB's p2pmem" match "$r" "buffer $cmb bytes 1048576 read 0 write 0"
check "one allocation was made for it" test "$(stat_of allocations $stats)" = $((allocs + 1))
check "and given back: available is $avail again" test "$(cat $p2p/available)" = "$avail"
check "no mapping was refused" test "$(stat_of refused $stats)" = "$refused"
echo "# $(grep mapped $stats | tr '\n' ' ')"
echo "# $(grep -e "^$plain" -e "^$cmb" /sys/kernel/debug/p2pmem/clients | tr '\n' ' ')"
check "the provider mapped 2 MiB of its memory for the copy" \
	test $(($(stat_of mapped_bus $stats) + $(stat_of mapped_host_bridge $stats))) = \
	     $((p2p_before + 2097152))
check "$plain mapped 1 MiB of it by the $expect_route route" \
	test "$(client_bytes $plain $kind)" = $((p2p_src + 1048576))
check "$cmb mapped 1 MiB of its own CMB at bus addresses" \
	test "$(client_bytes $cmb bus)" = $((p2p_dst + 1048576))
check "$plain mapped 0 bytes of host memory for the payload" \
	test "$(client_bytes $plain host)" = "$host_src"
check "$cmb mapped 0 bytes of host memory for the payload" \
	test "$(client_bytes $cmb host)" = "$host_dst"
dd_in $dst 0 /tmp/out
check "$dst holds every byte of the pattern" same /tmp/pattern /tmp/out

# The same copy through host memory, the baseline.
host_src=$(client_bytes $plain host)
host_dst=$(client_bytes $cmb host)
check "copy 1 MiB $src -> host memory -> $dst at 1 MiB" \
	write "copy /dev/$src /dev/$dst host 1048576 1048576" $client
check "the host copy reports success" \
	match "$(cat $client)" "buffer host bytes 1048576 read 0 write 0"
check "the host copy used no p2pmem" test "$(stat_of allocations $stats)" = $((allocs + 1))
check "each side of the host copy mapped 1 MiB of host memory" \
	test "$(client_bytes $plain host)" = $((host_src + 1048576)) -a \
	     "$(client_bytes $cmb host)" = $((host_dst + 1048576))
dd_in $dst 1 /tmp/out
check "$dst holds the pattern at 1 MiB too" same /tmp/pattern /tmp/out
# The rest runs as a kernel does by default: lists of host memory go to
# the original operations untouched (DMA_ATTR_P2P_PROBE).
check "host memory no longer counted (p2pmem.count_host, the default)" count_host N

# The NVMe on the other root port cannot reach the CMB: its half of a
# copy is refused before any data moves, and nothing reaches the disk.
check "copy $src -> CMB -> $far fails" \
	not write "copy /dev/$src /dev/$far $cmb 0 1048576" $client
r=$(cat $client)
echo "# $r"
check "the read worked, the write was refused with -EREMOTEIO" match "$r" "read 0 write -121"
dd_in $far 0 /tmp/out
check "$far still holds zeroes" same /tmp/zero /tmp/out
check "the provider counted the refusal" test "$(stat_of refused $stats)" -gt "$refused"
check "copy $far -> CMB -> $dst fails" \
	not write "copy /dev/$far /dev/$dst $cmb 0 1048576" $client
check "the read was refused with -EREMOTEIO, no write tried" \
	match "$(cat $client)" "read -121 write 0"
dd_in $dst 0 /tmp/out
check "$dst still holds the pattern" same /tmp/pattern /tmp/out

# A loop device's queue cannot take peer-to-peer memory: the block layer
# refuses the bio and says so.
dd if=/dev/zero of=/tmp/loopfile bs=65536 count=16 2>/dev/null
losetup /dev/loop0 /tmp/loopfile
check "copy $src -> CMB -> loop0 fails" \
	not write "copy /dev/$src /dev/loop0 $cmb 0 1048576" $client
check "the loop device's bio was refused with -EREMOTEIO" \
	match "$(cat $client)" "read 0 write -121"
check "the kernel log names the loop device and the provider" \
	match "$(dmesg)" "loop0: refused I/O to or from peer-to-peer memory of $cmb"
losetup -d /dev/loop0
check "the loop file still holds zeroes" same /tmp/zero /tmp/loopfile
check "after all copies, available is $avail again" test "$(cat $p2p/available)" = "$avail"

# Without any override, under intel-iommu in a VM, the neighbour's half of
# the copy is refused before any data moves: no copy can report success
# with wrong data. Without an IOMMU the same copy works.
write "" /sys/module/p2pmem/parameters/override
dd_out /tmp/zero $dst 2
if [ "$(expect_iommu)" = 1 ]; then
	check "with no override, $plain is refused under intel-iommu in a VM" \
		match "$(verdict $cmb $plain)" "not-supported .*under a hypervisor"
	check "so the copy through the CMB fails" \
		not write "copy /dev/$src /dev/$dst $cmb 2097152 1048576" $client
	check "its read was refused with -EREMOTEIO" \
		match "$(cat $client)" "read -121 write 0"
	dd_in $dst 2 /tmp/out
	check "and $dst was not written" same /tmp/zero /tmp/out
else
	check "with no override, $plain still takes the bus address route" \
		match "$(verdict $cmb $plain)" " bus-address "
	dd_out /tmp/pattern $src 2
	check "so the copy through the CMB works" \
		write "copy /dev/$src /dev/$dst $cmb 2097152 1048576" $client
	check "and reports success" match "$(cat $client)" "read 0 write 0"
	dd_in $dst 2 /tmp/out
	check "and $dst holds the pattern" same /tmp/pattern /tmp/out
fi
