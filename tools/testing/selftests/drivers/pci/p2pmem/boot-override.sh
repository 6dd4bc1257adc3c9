# SPDX-License-Identifier: GPL-2.0
# The override given on the kernel command line (by the harness:
# p2pmem.override=<switch upstream port>=host) is in force from boot.

wait_provider
cmb=$(nvme_with_cmb)
plain=$(nvme_below_switch_without_cmb)
up=$(basename "$(dirname "$(dirname "$(readlink -f /sys/bus/pci/devices/$cmb)")")")
ov=$(cat /sys/module/p2pmem/parameters/override)
echo "# override: $ov, switch upstream port: $up"
check "boot override is visible" test "$ov" = "$up=host"
v=$(verdict "$cmb" "$plain")
echo "# $v"
check "switch pair forced to host-bridge" test "$(field 3 "$v")" = host-bridge
check "reason names the override and the port" match "$v" "$up forced"
check "roundtrip still works" write "roundtrip $cmb 4096" $client
