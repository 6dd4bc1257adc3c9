# SPDX-License-Identifier: GPL-2.0
# DMA mappings through the shim, driven by the test client: the CMB mapped
# for its neighbour behind the switch (accepted, bus addresses), for the
# NVMe on the other root port (refused with the reason), and through the
# host bridge when an override forces it. Run with and without an IOMMU.

wait_provider

find_nvmes
stats=/sys/kernel/debug/p2pmem/$cmb/stats

# Under a hypervisor, with the neighbour's DMA translated by the IOMMU,
# the switch is not trusted to route at bus addresses: the pair is refused
# by default. The administrator's "bus" override forces the route, so the
# shim's bus address mapping is tested on both backends.
ov=/sys/module/p2pmem/parameters/override
if [ "$(expect_iommu)" = 1 ]; then
	check "under intel-iommu in a VM the neighbour is refused by default" \
		match "$(verdict $cmb $plain)" \
		"not-supported .*under a hypervisor, with an IOMMU translating $plain"
else
	check "without an IOMMU the neighbour takes the bus address route" \
		match "$(verdict $cmb $plain)" " bus-address .*no ACS redirect"
fi
check "an override forces the bus address route for the pair" \
	write "$cmb,$plain=bus" $ov

# The client command fails unless every CMB segment is the provider's
# bus address (as p2pmem computes it); the scenario checks the first one
# against the BAR as the PCI core shows it in sysfs.
check "map 4 CMB pages for the neighbour, each at its bus address" \
	write "map $cmb $plain 16384" $client
r=$(cat $client)
echo "# $r"
check "the neighbour gets the bus-address route" match "$r" "ok route bus-address"
check "a host page and 4 CMB pages make 5 segments" match "$r" "segments 5 "
check "the first CMB segment lies in BAR 2 of $cmb" \
	in_range "$(result_field "p2p dma" "$r")" "$(bar_bus_start "$cmb" 2)" 67108864

# Is the DMA of these clients translated? The harness says what to expect
# (p2pmem_expect_iommu= on the command line); prove it either way.
hdma=$(result_field "host dma" "$r")
hphys=$(result_field "phys" "$r")
if [ "$(expect_iommu)" = 1 ]; then
	check "the kernel log shows intel-iommu on" \
		match "$(dmesg)" "DMAR: Intel(R) Virtualization Technology for Directed I/O"
	check "$cmb, $plain and $other are in IOMMU groups" \
		test -e /sys/bus/pci/devices/$cmb/iommu_group -a \
		     -e /sys/bus/pci/devices/$plain/iommu_group -a \
		     -e /sys/bus/pci/devices/$other/iommu_group
	check "a host page's DMA address $hdma is an IOVA, not its address $hphys" \
		test -n "$hdma" -a -n "$hphys" -a "$hdma" != "$hphys"
else
	check "the kernel log shows no IOMMU" \
		not match "$(dmesg)" "DMAR: Intel(R) Virtualization Technology for Directed I/O"
	check "$cmb, $plain and $other are in no IOMMU group" \
		test ! -e /sys/bus/pci/devices/$cmb/iommu_group -a \
		     ! -e /sys/bus/pci/devices/$plain/iommu_group -a \
		     ! -e /sys/bus/pci/devices/$other/iommu_group
	check "a host page's DMA address $hdma is its physical address" \
		test -n "$hdma" -a "$hdma" = "$hphys"
fi

before=$(stat_of refused $stats)
check "mapping for the other root port fails" not write "map $cmb $other 8192" $client
r=$(cat $client)
echo "# $r"
check "the refusal is -EREMOTEIO" match "$r" "refused -121 "
check "the refusal gives the reason" match "$r" "not known to route peer-to-peer"
check "the provider counts the refusal" test "$(stat_of refused $stats)" = $((before + 1))
check "the kernel log names both devices once" \
	test "$(dmesg | grep -c "$cmb: p2pmem: refused to map p2pmem for $other: ")" = 1
check "a second refusal is counted" not write "map $cmb $other 4096" $client
check "but not logged again" \
	test "$(dmesg | grep -c "$cmb: p2pmem: refused to map p2pmem for $other: ")" = 1
check "the counter has both" test "$(stat_of refused $stats)" = $((before + 2))

check "force the host bridge route for the pair" \
	write "$cmb,$plain=bus;$cmb,$other=host" $ov
check "now the other root port maps the CMB" write "map $cmb $other 8192" $client
r=$(cat $client)
echo "# $r"
check "through the host bridge, by the original ops" \
	match "$r" "ok route host-bridge "
write "" $ov

check "nothing but nvme's 2 submission queues is left allocated" \
	test "$(stat_of bytes_in_use $stats)" = 131072
check "a map with a bad client fails" not write "map $cmb 0000:99:00.0 4096" $client
check "a map of part of a page fails" not write "map $cmb $plain 100" $client
