# SPDX-License-Identifier: GPL-2.0
# Provider removal: unbinding the NVMe driver while an allocation is held
# must wait (and say who holds it), refuse new allocations, and finish
# once the allocation is freed. Rebinding brings the provider back.

wait_provider
cmb=$(nvme_with_cmb)
cls=$(class_of "$cmb")
echo 200 > /sys/module/p2pmem/parameters/remove_warn_ms

check "hold 8 KiB of $cmb" write "hold $cmb 8192" $client
echo "$cmb" > /sys/bus/pci/drivers/nvme/unbind &
unbind=$!
sleep 2
check "unbind is still waiting" kill -0 $unbind
check "new allocations fail at once" not write "roundtrip $cmb 4096" $client
check "removal logs who holds the memory" match "$(dmesg)" "8192 bytes held by client_"
check "release the held memory" write release $client
check "unbind returns success once the memory is free" wait $unbind
check "class device $cls is gone" test ! -e /sys/class/p2pmem/$cls
check "PCI p2pmem group is gone" test ! -e /sys/bus/pci/devices/$cmb/p2pmem
check "the provider left the verdicts" not match "$(cat /sys/kernel/debug/p2pmem/verdicts)" "^$cmb "

echo "$cmb" > /sys/bus/pci/drivers/nvme/bind
wait_provider
check "rebinding registers the CMB again" test -e /sys/bus/pci/devices/$cmb/p2pmem/size
check "... under a new class device" test -n "$(class_of "$cmb")"
check "roundtrip after rebind" write "roundtrip $cmb 4096" $client
