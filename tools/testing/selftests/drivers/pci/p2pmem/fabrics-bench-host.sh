# SPDX-License-Identifier: GPL-2.0
# The NVMe-oF benchmark of `make bench`, host side (guest B; guest A runs
# fabrics-bench-target.sh): connect with nvme-cli over TCP (or RDMA), then for each
# "go KIND ROUND NSID MIB" from A write MIB MiB of random data to that
# namespace with O_DIRECT, read it back, compare, and answer
# "done KIND ROUND SECONDS ok|failed" (SECONDS for the write and the read).
NQN=nqn.2026-12.org.kernel.p2pmem:fabrics-bench
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:3b1f6a2e-8c4d-4e5f-9a0b-1c2d3e4f5a6b
A=169.254.0.1

send_msg() {	# send_msg TEXT: to A, retried until it listens
	i=0
	while [ $i -lt 120 ]; do
		echo "$1" | nc -w 5 $A 5001 2> /dev/null && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}
now() {	# seconds since boot, to the centisecond
	cut -d' ' -f1 /proc/uptime
}

tr=$(fabrics_transport)
check "eth0 up as 169.254.0.2 (NVMe/$tr)" fabrics_link 169.254.0.2
mkdir -p /run /etc/nvme
i=0
until nvme connect -t $tr -a $A -s 4420 -n $NQN --hostnqn=$HOSTNQN > /tmp/connect.out 2>&1; do
	i=$((i + 1))
	[ $i -ge 60 ] && break
	sleep 2
done
check "nvme connect over $tr to $A" test $i -lt 60
i=0
while [ ! -b /dev/nvme0n2 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
check "both namespaces are here" test -b /dev/nvme0n1 -a -b /dev/nvme0n2
sleep 2
send_msg ready

while :; do
	m=$(timeout 200 nc -l -p 5002 2> /dev/null)
	set -- $m
	[ "$1" = go ] || break
	kind=$2 r=$3 dev=/dev/nvme0n$4 mib=$5
	dd if=/dev/urandom of=/tmp/pat bs=1M count="$mib" 2> /dev/null
	t0=$(now)
	dd if=/tmp/pat of="$dev" bs=128k oflag=direct 2> /dev/null &&
		dd if="$dev" of=/tmp/back bs=128k count=$((mib * 8)) iflag=direct 2> /dev/null
	rc=$?
	t1=$(now)
	res=failed
	[ $rc = 0 ] && cmp -s /tmp/pat /tmp/back && res=ok
	check "$kind round $r: $mib MiB written, read back and compared on $dev" test $res = ok
	send_msg "done $kind $r $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $res"
	rm -f /tmp/back
done
check "A ended the rounds ($m)" test "$m" = end
check "nvme disconnect" nvme disconnect -n $NQN
send_msg bye
