# SPDX-License-Identifier: GPL-2.0
# Helpers for the p2pmem scenarios: KTAP-style output, one line per check.
n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n $*"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $*"
}
check() {
	# check DESCRIPTION COMMAND...: passes when COMMAND succeeds
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}

client=/sys/kernel/debug/p2pmem/client

match() {
	# match TEXT REGEX
	echo "$1" | grep -q -- "$2"
}
not() {
	! "$@"
}
write() {
	# write VALUE FILE: succeeds only if the kernel accepted the write
	printf '%s\n' "$1" > "$2" 2>/dev/null
}
field() {
	echo "$2" | cut -d' ' -f"$1"
}
verdict() {
	grep "^$1 $2 " /sys/kernel/debug/p2pmem/verdicts
}
stat_of() {
	sed -n "s/^$1 //p" "$2"
}
class_of() {
	for c in /sys/class/p2pmem/*; do
		[ -e "$c/device" ] || continue
		[ "$(basename "$(readlink -f "$c/device")")" = "$1" ] && basename "$c"
	done
}
below_switch() {
	# the parent of the device's port is a switch upstream port (0x8232)
	up=$(dirname "$(dirname "$(readlink -f /sys/bus/pci/devices/$1)")")
	[ "$(cat "$up/device" 2>/dev/null)" = 0x8232 ]
}
nvmes() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/class)" = 0x010802 ] && basename $d
	done
}
nvme_with_cmb() {
	for d in $(nvmes); do
		[ -e /sys/bus/pci/devices/$d/p2pmem ] && echo $d && return
	done
}
nvme_below_switch_without_cmb() {
	for d in $(nvmes); do
		below_switch $d && [ ! -e /sys/bus/pci/devices/$d/p2pmem ] && echo $d && return
	done
}
nvme_on_root_port() {
	for d in $(nvmes); do
		below_switch $d || { echo $d; return; }
	done
}
wait_provider() {
	i=0
	while [ $i -lt 100 ] && [ -z "$(nvme_with_cmb)" ]; do
		sleep 0.2
		i=$((i + 1))
	done
}
bar_bus_start() {
	# bus address of a BAR: CPU start minus the host bridge offset, which
	# is 0 on q35 (the kernel's own view: the resource file)
	sed -n "$(($2 + 1))p" /sys/bus/pci/devices/$1/resource | cut -d' ' -f1
}
in_range() {
	# in_range ADDR START LEN
	[ $(($1)) -ge $(($2)) ] && [ $(($1)) -lt $(($2 + $3)) ]
}
result_field() {
	# result_field NAME TEXT: the word after NAME in the client's result
	echo "$2" | sed -n "s/.* $1 \([^ ]*\).*/\1/p"
}
expect_iommu() {
	# what the harness expects: 1 with -device intel-iommu, else 0
	sed -n 's/.*p2pmem_expect_iommu=\([01]\).*/\1/p' /proc/cmdline
}
find_nvmes() {
	# sets cmb, plain (same switch) and other (another root port)
	cmb=$(nvme_with_cmb)
	plain=$(nvme_below_switch_without_cmb)
	other=$(nvme_on_root_port)
	check "found the CMB NVMe ($cmb), its neighbour ($plain) and the other NVMe ($other)" \
		test -n "$cmb" -a -n "$plain" -a -n "$other"
}
blk() {
	# the first namespace of the NVMe at PCI address $1
	for c in /sys/bus/pci/devices/$1/nvme/nvme*; do
		for ns in "$c"/nvme*n1; do
			[ -e "$ns" ] && basename "$ns" && return
		done
	done
}
count_host() {
	# count_host Y|N: have the shim count the host memory each client
	# maps (p2pmem.count_host; off by default: it costs a pass over every
	# scatterlist), and say whether it now does
	echo "$1" > /sys/module/p2pmem/parameters/count_host &&
		test "$(cat /sys/module/p2pmem/parameters/count_host)" = "$1"
}
client_bytes() {
	# client_bytes BDF KIND: bytes of KIND (host, bus, host_bridge) the
	# device mapped through the shim (host: while count_host is on)
	sed -nE "s/^$1( | .* )$2 ([0-9]+).*/\2/p" /sys/kernel/debug/p2pmem/clients
}
same() {
	cmp -s "$1" "$2"
}
fabrics_transport() {
	# tcp or rdma: how the NVMe-oF pair talks (harness/run-fabrics.sh)
	t=$(sed -n 's/.*fabrics_transport=\([a-z]*\).*/\1/p' /proc/cmdline)
	echo "${t:-tcp}"
}
fabrics_link() {
	# fabrics_link ADDR: eth0 up with ADDR/16 and, for rdma, soft RoCE on it
	ip link set eth0 up && ip addr add "$1/16" dev eth0 || return 1
	[ "$(fabrics_transport)" = rdma ] || return 0
	rdma link add rxe0 type rxe netdev eth0 || return 1
	i=0
	until rdma link show rxe0/1 | grep -q 'state ACTIVE'; do
		i=$((i + 1))
		[ $i -ge 50 ] && return 1
		sleep 0.2
	done
}
