# SPDX-License-Identifier: GPL-2.0
# Dump what the guest sees (used while developing topologies).
sleep 3
ecap() {
	# print extended capability IDs of a device
	f=/sys/bus/pci/devices/$1/config
	off=256
	while [ $off -ne 0 ]; do
		hdr=$(od -An -tx4 -j $off -N4 $f | tr -d ' ')
		[ -z "$hdr" ] || [ "$hdr" = 00000000 ] && break
		echo "  $1 ecap@$off id=$((0x$hdr & 0xffff))"
		off=$(((0x$hdr >> 20) & 0xffc))
	done
}
for d in /sys/bus/pci/devices/*; do
	echo "$(basename $d) $(cat $d/vendor):$(cat $d/device) class=$(cat $d/class)"
	ecap $(basename $d)
done
ls /sys/class/p2pmem/
cat /sys/kernel/debug/p2pmem/verdicts
dmesg | grep -i -E "p2pmem|nvme|cmb"
