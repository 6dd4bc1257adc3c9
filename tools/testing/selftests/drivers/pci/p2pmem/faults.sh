# SPDX-License-Identifier: GPL-2.0
# Fault injection: every allocation of registration, allocation, mmap,
# DMA mapping, publication and NVMe-oF namespace enable fails in turn
# (p2pmem_fault sweeps /proc/thread-self/fail-nth over failslab,
# fail_page_alloc and fail_p2pmem). Each failure must give a clean errno
# and leave sysfs, debugfs, the pool and the verdicts as they were; the
# debug kernel's kmemleak scan after the scenario finds any leak.
# Boots the KUnit topology (harness/run-scenario.sh SCENARIO_TOPOLOGY=kunit):
# the ivshmem-plain BAR below the switch is registered by the test client.
F=/sys/kernel/debug
fault=/scenario/p2pmem_fault
splat='BUG:|WARNING:|KASAN|UBSAN:|kernel BUG at|general protection|Oops|circular locking'
splat="$splat|possible recursive locking|inconsistent lock state|suspicious RCU usage"

shm_below_switch() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1110 ] || continue
		below_switch "$(basename $d)" && basename $d && return
	done
}
sweep() {	# sweep WHAT p2pmem_fault ARGS...: one sweep, one check
	what=$1
	shift
	dmesg -c >> /tmp/faults-dmesg
	# Each failure fail_p2pmem injects takes one off its "times".
	echo $FAIL_TIMES > $F/fail_p2pmem/times
	out=$("$fault" "$@" 2>&1)
	rc=$?
	p2p=$((FAIL_TIMES - $(cat $F/fail_p2pmem/times)))
	sites=$(echo "$out" | sed -n 's/^sweep: \([0-9]*\) sites.*/\1/p')
	if [ $rc = 0 ] && [ "${sites:-0}" -gt 0 ]; then
		ok "$what: $(echo "$out" | tail -1), $p2p of them fail_p2pmem"
		total=$((total + sites))
	else
		not_ok "$what: status $rc, $p2p of its sites fail_p2pmem:"
		echo "$out" | head -40 | sed 's/^/# /'
	fi
}
# The sweep's numbering of the sites shifts on the debug kernel (KASAN's
# stack depot and kmemleak allocate now and then), so it may step over
# the one fail_p2pmem site of an operation. Each operation that has one
# also runs once with fail_p2pmem failing its first site, for this task
# only (task-filter and make-it-fail), and that site must be reached.
p2pmem_site() {	# p2pmem_site WHAT p2pmem_fault ARGS...: one run, one check
	what=$1
	shift
	dmesg -c >> /tmp/faults-dmesg
	echo Y > $F/fail_p2pmem/task-filter
	echo 1 > $F/fail_p2pmem/times
	echo 100 > $F/fail_p2pmem/probability
	out=$(sh -c 'echo 1 > /proc/self/make-it-fail && exec "$@"' sh \
		"$fault" -1 "$@" 2>&1)
	rc=$?
	left=$(cat $F/fail_p2pmem/times)
	echo 0 > $F/fail_p2pmem/probability
	echo N > $F/fail_p2pmem/task-filter
	if [ $rc = 0 ] && [ "$left" = 0 ]; then
		ok "$what with its first fail_p2pmem site failing: $(echo "$out" | tail -1)"
		total=$((total + 1))
	else
		not_ok "$what with its first fail_p2pmem site failing: status $rc," \
			"fail_p2pmem times left $left (wanted 0):"
		echo "$out" | head -40 | sed 's/^/# /'
	fi
}

find_nvmes
shm=$(shm_below_switch)
check "the ivshmem-plain below the switch is $shm" test -n "$shm"
check "the kernel has failslab, fail_page_alloc and fail_p2pmem" \
	test -d $F/failslab -a -d $F/fail_page_alloc -a -d $F/fail_p2pmem
check "p2pmem_fault is in the guest" test -x "$fault"

# Every allocation may fail, sleeping or not, of any order; fail_p2pmem
# logs its failures, the others fail quietly. The console
# shows only emergencies meanwhile: each failed page allocation dumps a
# stack and the memory state, which is checked for splats afterwards.
echo N > $F/failslab/ignore-gfp-wait
echo N > $F/fail_page_alloc/ignore-gfp-wait
echo N > $F/fail_page_alloc/ignore-gfp-highmem
echo 0 > $F/fail_page_alloc/min-order
echo 0 > $F/failslab/verbose
echo 0 > $F/fail_page_alloc/verbose
echo 1 > $F/fail_p2pmem/verbose
# fail_p2pmem's failures are counted from its "times" (as many as the
# sweeps can reach, and never -1, which would stop the count), not from
# its messages, which the log may rotate out or rate-limit.
FAIL_TIMES=1000000
printk=$(cut -f1 /proc/sys/kernel/printk)
echo 1 > /proc/sys/kernel/printk
total=0

reg_state="ls /sys/class/p2pmem /sys/bus/pci/devices/$shm $F/p2pmem; cat $F/p2pmem/verdicts"
sweep "registration of $shm BAR 2" -s "$reg_state" -u "$client=unregister $shm" \
	write $client "register $shm 2"
p2pmem_site "registration of $shm BAR 2" -s "$reg_state" -u "$client=unregister $shm" \
	write $client "register $shm 2"

check "register $shm for the sweeps that follow" write "register $shm 2" $client
prov=$(class_of "$shm")
pool_state="cat /sys/bus/pci/devices/$shm/p2pmem/available;
	grep -v -e '^failed ' -e '^allocations ' -e '^frees ' -e '^high_water ' \
		$F/p2pmem/$shm/stats"
sweep "allocation of 64 KiB" -s "$pool_state" -u "$client=release" write $client "hold $shm 65536"
p2pmem_site "allocation of 64 KiB" -s "$pool_state" -u "$client=release" \
	write $client "hold $shm 65536"
sweep "mmap of 64 KiB of $shm/p2pmem/allocate" -s "$pool_state" \
	mmap /sys/bus/pci/devices/$shm/p2pmem/allocate 65536
p2pmem_site "mmap of 64 KiB of $shm/p2pmem/allocate" -s "$pool_state" \
	mmap /sys/bus/pci/devices/$shm/p2pmem/allocate 65536
# Mapping counts bytes mapped (stats and clients) for good: not compared.
map_state="cat /sys/bus/pci/devices/$shm/p2pmem/available;
	grep -e '^bytes_in_use ' -e '^mappings ' $F/p2pmem/$shm/stats; cat $F/p2pmem/verdicts"
sweep "DMA mapping of 4 p2pmem pages for $plain" -s "$map_state" -e ENOMEM,EIO \
	write $client "map $shm $plain 16384"
pub_state="cat /sys/class/p2pmem/$prov/published; ls /sys/class/p2pmem/$prov"
sweep "publication of $prov" -s "$pub_state" -u "/sys/class/p2pmem/$prov/published=0" \
	write /sys/class/p2pmem/$prov/published 1

# An NVMe-oF namespace on the NVMe beside it, its buffers from $shm.
check "publish $prov for the namespace" write 1 /sys/class/p2pmem/$prov/published
NQN=nqn.2026-12.org.kernel.p2pmem:faults
sub=/sys/kernel/config/nvmet/subsystems/$NQN
ns=$sub/namespaces/1
mkdir "$sub" "$ns"
printf '%s' "/dev/$(blk "$plain")" > "$ns/device_path"
check "namespace 1 of $NQN takes p2pmem $shm" write "$shm" "$ns/p2pmem"
ns_state="cat $ns/enable $ns/p2pmem $ns/p2pmem_stat; $pool_state"
sweep "enable of a namespace with p2pmem $shm" -s "$ns_state" -u "$ns/enable=0" \
	-e ENOMEM,EINVAL,ENODEV write "$ns/enable" 1
check "the namespace enables once nothing fails" write 1 "$ns/enable"
check "... and disables" write 0 "$ns/enable"
rmdir "$ns" "$sub"

echo "$printk" > /proc/sys/kernel/printk
echo 1 > $F/failslab/ignore-gfp-wait
echo 1 > $F/fail_page_alloc/ignore-gfp-wait
check "release and unregister $shm" write release $client
check "... unregister" write "unregister $shm" $client
check "$shm is no provider any more" test ! -e /sys/bus/pci/devices/$shm/p2pmem
check "registration still works after the sweeps" write "register $shm 2" $client
check "... and a roundtrip through it" write "roundtrip $shm 65536" $client
check "... and it goes again" write "unregister $shm" $client
dmesg >> /tmp/faults-dmesg
# x86's add_pages() warns once whenever __add_pages() fails, for -ENOMEM
# too: the registration sweep fails allocations inside it on purpose.
log=$(grep -E "$splat" /tmp/faults-dmesg |
	grep -v 'at [^ ]*arch/x86/mm/init_64.c:[0-9]* add_pages+')
check "no kernel splat in dmesg during the sweeps ($total fault sites)" test -z "$log"
[ -n "$log" ] && echo "$log" | head -20 | sed 's/^/# /'
echo "# fault sites injected: $total"
