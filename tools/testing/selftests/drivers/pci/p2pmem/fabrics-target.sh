# SPDX-License-Identifier: GPL-2.0
# NVMe-oF target with copy offload (guest A of the fabrics pair; guest B
# runs fabrics-host.sh). The namespace is the NVMe beside the CMB, its
# buffers come from the CMB; B connects over TCP (or RDMA on soft RoCE), writes and reads back.
# First every bad write of the p2pmem attribute is refused with its errno
# and changes nothing. Then two rounds of I/O from B: one in p2pmem, one
# with the CMB held by userspace, which must fall back to host memory and
# count it. The guests signal each other with nc over the same link.
#
# Addresses: link-local, A 169.254.0.1, B 169.254.0.2 (fabrics-host.sh).
NQN=nqn.2026-12.org.kernel.p2pmem:fabrics
S=/sys/kernel/config/nvmet
sub=$S/subsystems/$NQN

recv_msg() {	# recv_msg PORT: print the one message B sends to PORT
	timeout 150 nc -l -p "$1" 2> /dev/null
}
send_msg() {	# send_msg ADDR PORT TEXT: retried until the peer listens
	i=0
	while [ $i -lt 120 ]; do
		echo "$3" | nc -w 5 "$1" "$2" 2> /dev/null && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}
errno_of() {	# errno_of VALUE FILE: the error text of writing VALUE, or "ok"
	# (ash's echo reports a failed write, its printf does not)
	e=$( { echo "$1" > "$2"; } 2>&1) && { echo ok; return; }
	case "$e" in
	*"Invalid argument"*) echo EINVAL ;;
	*"No such device"*) echo ENODEV ;;
	*"resource busy"*) echo EBUSY ;;
	*) echo "other: $e" ;;
	esac
}
stat_field() {	# stat_field N: field N of the namespace's p2pmem_stat
	cut -d' ' -f"$1" "$ns/p2pmem_stat"
}
bad_write() {	# bad_write VALUE ERRNO: refused with ERRNO, nothing changed
	before=$(cat "$ns/p2pmem")
	en=$(cat "$ns/enable")
	got=$(errno_of "$1" "$ns/p2pmem")
	after=$(cat "$ns/p2pmem")
	if [ "$got" = "$2" ] && [ "$after" = "$before" ] &&
	   [ "$(cat "$ns/enable")" = "$en" ]; then
		ok "p2pmem <- '$1': $2, still '$after'"
	else
		not_ok "p2pmem <- '$1': wanted $2 and '$before', got $got and '$after'"
	fi
}

find_nvmes
wait_provider
prov=$(class_of "$cmb")
backing=/dev/$(blk "$plain")
far=/dev/$(blk "$other")
check "the backing NVMe ($backing) and the far one ($far) have namespaces, the CMB is $prov" \
	test -b "$backing" -a -b "$far" -a -n "$prov"
tr=$(fabrics_transport)
check "eth0 up as 169.254.0.1 (NVMe/$tr)" fabrics_link 169.254.0.1

mkdir "$sub" && echo 1 > "$sub/attr_allow_any_host"
ns=$sub/namespaces/1
mkdir "$ns"
printf '%s' "$backing" > "$ns/device_path"
check "a new namespace's p2pmem is 0 and its p2pmem_stat all zeros" \
	test "$(cat "$ns/p2pmem")" = 0 -a "$(cat "$ns/p2pmem_stat")" = "0 0 0 0 0 0"

# Bad input, namespace disabled: errno, and nothing changed.
echo auto > "$ns/p2pmem"
bad_write 2 EINVAL
bad_write "yes please" EINVAL
bad_write "" EINVAL
bad_write autox EINVAL
bad_write AUTO EINVAL
bad_write -1 EINVAL
bad_write 0x1 EINVAL
bad_write " 1" EINVAL
bad_write "1 $cmb" EINVAL
bad_write p2pmem EINVAL
bad_write p2pmem1x EINVAL
bad_write 00:03:00:0 EINVAL
bad_write 0123456789012345678901234567890123456789 EINVAL
bad_write p2pmem99 ENODEV
bad_write 0000:99:00.0 ENODEV
bad_write "${cmb%.0}.7" ENODEV
bad_write "$plain" ENODEV
bad_write "$other" ENODEV

# The values it takes, and what reading gives back.
takes() {	# takes VALUE READ: the attribute takes VALUE and reads READ
	write "$1" "$ns/p2pmem" && test "$(cat "$ns/p2pmem")" = "$2"
}
check "p2pmem takes the CMB's PCI name" write "$cmb" "$ns/p2pmem"
check "and reads it back" test "$(cat "$ns/p2pmem")" = "$cmb"
check "p2pmem takes the class name $prov, read back as its PCI name" takes "$prov" "$cmb"
check "p2pmem takes y, read back as 1" takes y 1
check "p2pmem takes n, read back as 0" takes n 0

# A namespace on the NVMe behind the other root port: the CMB is refused
# to it (QEMU's host bridge is not known to route peer-to-peer).
far_ns=$sub/namespaces/2
mkdir "$far_ns"
printf '%s' "$far" > "$far_ns/device_path"
echo 1 > "$far_ns/p2pmem"
dmesg -c > /dev/null
check "enabling a namespace p2pmem=1 that no provider suits fails" not write 1 "$far_ns/enable"
msg=$(dmesg)
check "and the log gives the verdict's reason" match "$msg" "not usable by $other: "
check "and it stays disabled" test "$(cat "$far_ns/enable")" = 0
echo "$cmb" > "$far_ns/p2pmem"
check "with p2pmem=$cmb it fails too" not write 1 "$far_ns/enable"
echo auto > "$far_ns/p2pmem"
check "with auto it enables, on host memory (no provider shown)" \
	sh -c "echo 1 > $far_ns/enable && test \"\$(cat $far_ns/p2pmem)\" = auto"
echo 0 > "$far_ns/enable"
rmdir "$far_ns"

echo auto > "$ns/p2pmem"
check "the namespace enables with p2pmem=auto" write 1 "$ns/enable"
check "p2pmem shows the setting and the provider in use" \
	test "$(cat "$ns/p2pmem")" = "auto $cmb"
bad_write 0 EBUSY
bad_write 1 EBUSY
bad_write "$cmb" EBUSY

port=$S/ports/1
mkdir "$port"
echo "$tr" > "$port/addr_trtype"
echo ipv4 > "$port/addr_adrfam"
echo 169.254.0.1 > "$port/addr_traddr"
echo 4420 > "$port/addr_trsvcid"
check "the $tr port listens with the subsystem" ln -s "$sub" "$port/subsystems/$NQN"

# Round 1: B writes 4 MiB at 0 and reads it back, through p2pmem.
# (nvme-pci keeps its submission queues in the CMB: in use already)
inuse0=$(stat_of bytes_in_use "/sys/kernel/debug/p2pmem/$cmb/stats")
check "the shim counts host memory (p2pmem.count_host)" count_host Y
host0=$(client_bytes "$plain" host)
bus0=$(client_bytes "$plain" bus)
m1=$(recv_msg 5001)
check "host round 1 done ($m1)" match "$m1" "^round1 ok "
check "round 1 went through p2pmem: no fallback" \
	test "$(stat_field 1)" -gt 0 -a "$(stat_field 2)" = 0
check "4 MiB written through p2pmem, at least 4 MiB read" \
	test "$(stat_field 3)" = 4194304 -a "$(stat_field 4)" -ge 4194304
check "the backing NVMe mapped the data at bus addresses, no host memory" \
	test $(($(client_bytes "$plain" bus) - bus0)) -ge 8388608 -a \
	     "$(client_bytes "$plain" host)" = "$host0"
sum=$(dd if="$backing" bs=128k count=32 iflag=direct 2> /dev/null | md5sum | cut -d' ' -f1)
check "the backing NVMe holds what the host wrote" match "$m1" " $sum\$"
check "the requests' buffers all went back to $prov" \
	test "$(stat_of bytes_in_use "/sys/kernel/debug/p2pmem/$cmb/stats")" = "$inuse0"

# Round 2: userspace holds the whole CMB, so every request falls back.
avail=$(cat "/sys/class/p2pmem/$prov/available")
rm -f /tmp/held /tmp/go
/scenario/p2pmem_hold "$cmb" "$avail" /tmp/held /tmp/go > /tmp/hold.out 2>&1 &
hold=$!
i=0
while [ ! -e /tmp/held ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "userspace holds all $avail bytes of the CMB" \
	test -e /tmp/held -a "$(cat "/sys/class/p2pmem/$prov/available")" = 0
r1=$(stat_field 1)
p1=$(stat_field 3)
host0=$(client_bytes "$plain" host)
check "told the host to start round 2" send_msg 169.254.0.2 5002 go
m2=$(recv_msg 5001)
check "host round 2 done ($m2)" match "$m2" "^round2 ok "
check "round 2 fell back to host memory and counted it" \
	test "$(stat_field 2)" -gt 0 -a "$(stat_field 5)" = 4194304 -a "$(stat_field 6)" -ge 4194304
check "and nothing of it in p2pmem" test "$(stat_field 1)" = "$r1" -a "$(stat_field 3)" = "$p1"
check "the backing NVMe mapped host memory for it" \
	test $(($(client_bytes "$plain" host) - host0)) -ge 8388608
sum=$(dd if="$backing" bs=128k skip=64 count=32 iflag=direct 2> /dev/null | md5sum | cut -d' ' -f1)
check "the backing NVMe holds round 2's data" match "$m2" " $sum\$"
touch /tmp/go
wait $hold
echo "p2pmem_stat: $(cat "$ns/p2pmem_stat")"

# Teardown: the host has disconnected. Nothing may stay allocated.
rm "$port/subsystems/$NQN"
rmdir "$port"
echo 0 > "$ns/enable"
check "disabled, p2pmem shows the setting only" test "$(cat "$ns/p2pmem")" = auto
rmdir "$ns" && rmdir "$sub"
check "the CMB is all available again" \
	test "$(cat "/sys/class/p2pmem/$prov/available")" = "$avail"
