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
