# SPDX-License-Identifier: GPL-2.0
# `make demo`: show p2pmem at work on the default topology.

wait_provider
echo
echo "== PCI devices"
for d in /sys/bus/pci/devices/*; do
	echo "  $(basename $d)  $(cat $d/vendor):$(cat $d/device)  class $(cat $d/class)"
done
echo
echo "== p2pmem providers (/sys/class/p2pmem)"
for c in /sys/class/p2pmem/*; do
	dev=$(basename "$(readlink -f $c/device)")
	echo "  $(basename $c) -> $dev: size $(cat $c/size)," \
	     "available $(cat $c/available), published $(cat $c/published)"
done
echo
echo "== verdicts (/sys/kernel/debug/p2pmem/verdicts: provider client route distance reason)"
sed 's/^/  /' /sys/kernel/debug/p2pmem/verdicts
echo
cmb=$(nvme_with_cmb)
echo "== allocation round trip of 64 KiB from $cmb (via /sys/kernel/debug/p2pmem/client)"
check "roundtrip" write "roundtrip $cmb 65536" $client
echo "  $(head -1 $client)"
echo "  stats after the round trip:"
sed 's/^/    /' /sys/kernel/debug/p2pmem/$cmb/stats
echo
ov=/sys/module/p2pmem/parameters/override
echo "== administrator override: echo 'pci0000:00=host' > $ov"
write "pci0000:00=host" $ov
grep "^$cmb $(nvme_on_root_port) " /sys/kernel/debug/p2pmem/verdicts | sed 's/^/  /'
write "" $ov
echo
plain=$(nvme_below_switch_without_cmb)
src=$(blk $plain)
dst=$(blk $cmb)
echo "== copy offload: 1 MiB from $src ($plain) into the CMB of $cmb, then to $dst"
dd if=/dev/urandom of=/tmp/pattern bs=65536 count=16 2>/dev/null
dd if=/tmp/pattern of=/dev/$src bs=65536 oflag=direct 2>/dev/null
st=/sys/kernel/debug/p2pmem/$cmb/stats
check "the shim counts host memory (p2pmem.count_host)" count_host Y
echo "  before: $(grep -e mapped -e bytes_in_use $st | tr '\n' ' ')"
echo "          $(grep -e "^$plain" -e "^$cmb" /sys/kernel/debug/p2pmem/clients | tr '\n' ' ')"
check "copy through the CMB" write "copy /dev/$src /dev/$dst $cmb 0 1048576" $client
echo "  $(head -1 $client)"
echo "  after:  $(grep -e mapped -e bytes_in_use $st | tr '\n' ' ')"
echo "          $(grep -e "^$plain" -e "^$cmb" /sys/kernel/debug/p2pmem/clients | tr '\n' ' ')"
echo "  (host: host memory bytes each NVMe mapped; unchanged: 0 bytes for the payload)"
dd if=/dev/$dst of=/tmp/out bs=65536 count=16 iflag=direct 2>/dev/null
check "$dst holds the pattern" cmp -s /tmp/pattern /tmp/out
same=$(cmp -s /tmp/pattern /tmp/out && echo 'all 1048576 bytes equal' || echo MISMATCH)
echo "  data check: $same"
echo
