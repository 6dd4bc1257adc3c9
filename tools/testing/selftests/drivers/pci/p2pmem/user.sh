# SPDX-License-Identifier: GPL-2.0
# p2pmem from userspace: p2pmem_mmap_test (mmap of p2pmem/allocate, what
# it refuses and what may pin the pages), then tools/p2pmem/p2pmem-copy as
# a program written against the upstream ABI uses it: O_DIRECT pread from
# one NVMe into the mapped CMB, pwrite to another, 4 threads, every byte
# compared; the host-memory baseline; the refusal for the NVMe that cannot
# reach the CMB. Run without an IOMMU and under intel-iommu with the
# host bridge route for the pair by override (user-iommu in the harness).

wait_provider

find_nvmes
p2p=/sys/bus/pci/devices/$cmb/p2pmem
stats=/sys/kernel/debug/p2pmem/$cmb/stats

src=$(blk $plain)
dst=$(blk $cmb)
far=$(blk $other)
avail=$(cat $p2p/available)

# The C cases, each reported by name; a missing binary or case fails here.
# The O_DIRECT cases use the neighbour, which reaches the CMB, and the
# NVMe of the CMB itself.
dd if=/dev/zero of=/tmp/loopfile bs=65536 count=16 2>/dev/null
losetup /dev/loop0 /tmp/loopfile
out=$(P2PMEM_PCI=$cmb P2PMEM_NVME=/dev/$src P2PMEM_CMB_NVME=/dev/$dst P2PMEM_LOOP=/dev/loop0 \
	/scenario/p2pmem_mmap_test 2>&1)
echo "$out" | sed 's/^/# /'
for t in shared_zeroed_and_returned private_refused offset_refused \
	 beyond_available_refused zero_length_refused \
	 write_map_of_read_only_open_refused grow_refused \
	 partial_munmap_returns_that_part fork_shares_and_exit_returns \
	 dontneed_gives_back_and_sigbus o_direct_nvme_and_loop o_direct_two_segments_own_cmb \
	 other_pinning_refused buffered_read_is_a_cpu_copy longterm_pin_refused; do
	check "mmap test $t" match "$out" "^ok [0-9]* p2pmem\.$t$"
done
check "the mmap test ran 15 cases" match "$out" "^1\.\.15$"
losetup -d /dev/loop0
check "after the mmap tests, available is $avail again" test "$(cat $p2p/available)" = "$avail"

# p2pmem-copy: 1 MiB in 64 KiB chunks, 4 threads, through the CMB.
dd if=/dev/urandom of=/tmp/pattern bs=65536 count=16 2>/dev/null
dd if=/tmp/pattern of=/dev/$src bs=65536 oflag=direct 2>/dev/null
dd if=/dev/zero of=/dev/$dst bs=65536 count=16 oflag=direct 2>/dev/null
check "the shim counts host memory (p2pmem.count_host)" count_host Y
host_src=$(client_bytes $plain host)
host_dst=$(client_bytes $cmb host)
out=$(p2pmem-copy -p $cmb -c 64k -n 16 -t 4 /dev/$src /dev/$dst 2>&1)
rc=$?
echo "# $out"
check "p2pmem-copy through the CMB, 4 threads, succeeds" test $rc = 0
check "it says the buffer was p2pmem of $cmb" match "$out" "4 threads, buffer p2pmem of $cmb"
check "$plain and $cmb mapped 0 bytes of host memory for the payload" \
	test "$(client_bytes $plain host)" = "$host_src" -a \
	     "$(client_bytes $cmb host)" = "$host_dst"
dd if=/dev/$dst of=/tmp/out bs=65536 count=16 iflag=direct 2>/dev/null
check "$dst holds every byte of the pattern" same /tmp/pattern /tmp/out
check "the copy's buffer is back: available is $avail" test "$(cat $p2p/available)" = "$avail"

# The rest runs as a kernel does by default (see copy.sh).
check "host memory no longer counted (p2pmem.count_host, the default)" count_host N

# Its own whole-data check, and the host-memory baseline.
out=$(p2pmem-copy -p $cmb -c 128k -n 8 -s 0 -d 1048576 -C /dev/$src /dev/$dst 2>&1)
rc=$?
echo "# $out" | tr '\n' ' '
echo
check "p2pmem-copy -C through the CMB finds all chunks equal" \
	test $rc = 0 -a -n "$(echo "$out" | grep 'check ok: all 8 chunks equal')"
out=$(p2pmem-copy -H -c 64k -n 16 -t 2 -d 2097152 -C /dev/$src /dev/$dst 2>&1)
rc=$?
echo "# $out" | tr '\n' ' '
echo
check "p2pmem-copy through host memory (baseline) finds all chunks equal" \
	test $rc = 0 -a -n "$(echo "$out" | grep 'buffer host memory')" -a \
	     -n "$(echo "$out" | grep 'check ok')"

# The NVMe on the other root port cannot reach the CMB: the copy fails
# with EREMOTEIO and writes nothing.
dd if=/dev/zero of=/dev/$far bs=65536 count=16 oflag=direct 2>/dev/null
out=$(p2pmem-copy -p $cmb -c 64k -n 16 /dev/$src /dev/$far 2>&1)
rc=$?
echo "# $out" | tr '\n' ' '
echo
check "p2pmem-copy to $far through the CMB fails" test $rc = 1
check "with Remote I/O error (EREMOTEIO)" match "$out" "Remote I/O error"
dd if=/dev/$far of=/tmp/out bs=65536 count=16 iflag=direct 2>/dev/null
dd if=/dev/zero of=/tmp/zero bs=65536 count=16 2>/dev/null
check "$far still holds zeroes" same /tmp/zero /tmp/out
check "after all copies, available is $avail again" test "$(cat $p2p/available)" = "$avail"

# The provider goes away while a process has its memory mapped: the
# unbind does not hang, the mapping is revoked (the next access gets
# SIGBUS), the memory comes back, and a rebind brings the provider back.
drv=/sys/bus/pci/drivers/nvme
rm -f /tmp/ready /tmp/go
/scenario/p2pmem_hold $cmb 65536 /tmp/ready /tmp/go > /tmp/hold.out 2>&1 &
hold=$!
i=0
while [ ! -e /tmp/ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "a process holds 64 KiB of the CMB mapped" test -e /tmp/ready
check "available dropped by the 64 KiB it holds" \
	test "$(cat $p2p/available)" = $((avail - 65536))
timeout 60 sh -c "echo $cmb > $drv/unbind"
check "unbinding nvme from $cmb finishes while the mapping exists" test $? = 0
check "the provider is gone" test ! -e $p2p
touch /tmp/go
wait $hold
check "the process got SIGBUS on its next access" test $? = 0
echo "# $(cat /tmp/hold.out)"
check "the kernel log says the provider was removed" \
	match "$(dmesg | tail -20)" "$cmb: p2pmem provider p2pmem[0-9]* removed"
echo $cmb > $drv/bind
wait_provider
check "after a rebind $cmb is a provider again, with all but its queues available" \
	test "$(cat $p2p/available 2>/dev/null)" = "$avail"
