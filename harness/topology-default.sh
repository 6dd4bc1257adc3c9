# SPDX-License-Identifier: GPL-2.0
# QEMU arguments of the default scenario topology (sourced):
#
#   pcie.0 - ioh3420 - x3130 switch - NVMe with a 64 MiB CMB
#                                   - NVMe
#          - ioh3420 - NVMe
#
# Each NVMe has a 64 MiB namespace backed by a sparse file, so data
# written in one step of a scenario can be read back in the next:
# new_disk_dir makes a directory of them for one boot and sets disk_dir
# (the caller removes it), default_topology sets qemu_topology for it.
new_disk_dir() {
	mkdir -p "$B/tmp" || return 1
	disk_dir=$(mktemp -d "$B/tmp/disks.XXXXXX") || return 1
	for d in cmb plain other; do
		truncate -s 64M "$disk_dir/$d.img" || return 1
	done
}
default_topology() {
qemu_topology=(
	-machine q35 -smp 2 -m 1G
	-device ioh3420,id=rp1,bus=pcie.0,chassis=1,slot=1
	-device x3130-upstream,id=up1,bus=rp1
	-device xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=0
	-device xio3130-downstream,id=dn2,bus=up1,chassis=2,slot=1
	-blockdev driver=file,node-name=nb1,filename=$disk_dir/cmb.img
	-device nvme,id=cmbnvme,serial=cmb,drive=nb1,bus=dn1,cmb_size_mb=64
	-blockdev driver=file,node-name=nb2,filename=$disk_dir/plain.img
	-device nvme,serial=plain,drive=nb2,bus=dn2
	-device ioh3420,id=rp2,bus=pcie.0,chassis=3,slot=0
	-blockdev driver=file,node-name=nb3,filename=$disk_dir/other.img
	-device nvme,serial=other,drive=nb3,bus=rp2
)
}

# The PCI address the guest gives the switch's upstream port: the first
# root port (00:01.0 here, rp1) gets bus 1, and the upstream port is the
# only device on it. The boot-override scenario names it on the command
# line and checks in the guest that it is the upstream port of the CMB's
# switch, so a topology change that moves it fails there.
switch_upstream_port=0000:01:00.0
# The hotplug scenario unplugs the NVMe with the CMB (device_del of
# cmbnvme) and plugs it back in with the same properties (hotplug.sh).
# The NVMe with the CMB and its neighbour below the switch's downstream
# ports (buses 3 and 4); the copy scenario checks which is which.
cmb_nvme=0000:03:00.0
plain_nvme=0000:04:00.0
