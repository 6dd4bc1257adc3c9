# SPDX-License-Identifier: GPL-2.0
# Default topology: a switch holding an NVMe with a CMB and a plain NVMe,
# plus an NVMe on another root port. Checks sysfs, debugfs and verdicts.

wait_provider

find_nvmes

cls=$(class_of "$cmb")
check "class device $cls links to $cmb" \
	test "$(basename "$(readlink -f /sys/class/p2pmem/$cls/device)")" = "$cmb"
pci=/sys/bus/pci/devices/$cmb/p2pmem
check "PCI size is 64 MiB" test "$(cat $pci/size)" = 67108864
check "class size matches PCI size" test "$(cat /sys/class/p2pmem/$cls/size)" = "$(cat $pci/size)"
# nvme-pci puts its I/O submission queues in the CMB: one per CPU (the
# guest has 2), 1024 entries of 64 bytes each.
sq=$((2 * 65536))
st=/sys/kernel/debug/p2pmem/$cmb/stats
check "nvme put 2 I/O submission queues in the CMB" \
	test "$(stat_of allocations $st)" = 2 -a "$(stat_of bytes_in_use $st)" = $sq
check "all the rest is available" test "$(cat $pci/available)" = $((67108864 - sq))
check "nvme published its CMB" test "$(cat $pci/published)" = 1
check "the plain NVMe is no provider" test ! -e /sys/bus/pci/devices/$plain/p2pmem

v=$(verdict "$cmb" "$plain")
echo "# $v"
check "CMB -> neighbour: bus-address" test "$(field 3 "$v")" = bus-address
check "CMB -> neighbour: distance 4" test "$(field 4 "$v")" = 4
check "CMB -> neighbour: reason names the switch" match "$v" "below common bridge"
v=$(verdict "$cmb" "$other")
echo "# $v"
check "CMB -> other root port: not-supported" test "$(field 3 "$v")" = not-supported
check "CMB -> other root port: reason names 8086:29c0" match "$v" "8086:29c0"

# Runtime override, and a bad one that must change nothing.
ov=/sys/module/p2pmem/parameters/override
check "override accepts pci0000:00=host" write "pci0000:00=host" $ov
v=$(verdict "$cmb" "$other")
echo "# $v"
check "override turns the root-port pair to host-bridge" test "$(field 3 "$v")" = host-bridge
check "the reason says override" match "$v" "override"
check "a bad override is refused" not write "pci0000:00=sideways" $ov
check "the refused override left the old one" test "$(cat $ov)" = "pci0000:00=host"
check "override clears" write "" $ov
check "verdict back to not-supported" test "$(field 3 "$(verdict "$cmb" "$other")")" = not-supported

# published through the class device; bad input changes nothing.
c=/sys/class/p2pmem/$cls/published
check "unpublish via class device" write 0 $c
check "PCI view follows" test "$(cat $pci/published)" = 0
check "published refuses 'banana'" not write banana $c
check "... and stays 0" test "$(cat $c)" = 0
check "PCI published is read-only" not write 1 $pci/published
check "republish" write 1 $c

# Allocation round trip through the in-kernel API.
# The client command fails unless the pattern it wrote reads back.
check "roundtrip of 64 KiB: a pattern written and read back" \
	write "roundtrip $cmb 65536" $client
echo "# $(head -1 $client)"
bus=$(sed -n 's/.* bus \(0x[0-9a-f]*\) .*/\1/p' $client)
bar=$(bar_bus_start "$cmb" 2)
check "bus address $bus lies in BAR 2 at $bar" in_range "$bus" "$bar" 67108864
check "stats count the allocation" test "$(stat_of allocations $st)" = 3
check "stats count the free" test "$(stat_of frees $st)" = 1
check "only the queues are in use afterwards" test "$(stat_of bytes_in_use $st)" = $sq
check "high-water mark is the queues and 64 KiB" \
	test "$(stat_of high_water $st)" = $((sq + 65536))
check "an oversize request fails" not write "roundtrip $cmb 134217728" $client
check "... and is counted" test "$(stat_of failed $st)" = 1
check "a client command with a bad device fails" not write "roundtrip 0000:99:00.0 4096" $client
check "a bad client command fails" not write "frobnicate" $client

# "available" follows what is allocated, "size" does not.
check "hold 8 KiB of $cmb" write "hold $cmb 8192" $client
check "available drops by the held 8 KiB" test "$(cat $pci/available)" = $((67108864 - sq - 8192))
check "class available matches PCI available" \
	test "$(cat /sys/class/p2pmem/$cls/available)" = "$(cat $pci/available)"
check "release the held 8 KiB" write release $client
check "all but the queues is available again" test "$(cat $pci/available)" = $((67108864 - sq))
