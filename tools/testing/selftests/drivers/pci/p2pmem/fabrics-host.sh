# SPDX-License-Identifier: GPL-2.0
# NVMe-oF host (guest B of the fabrics pair; guest A, the target, runs
# fabrics-target.sh). Connects with nvme-cli over TCP (or RDMA on soft
# RoCE, with fabrics_transport=rdma on the command line) and, in each of
# two rounds, writes 4 MiB of random data with O_DIRECT, reads it back
# with O_DIRECT and compares all of it, then tells A the round's result
# and the data's md5sum, which A compares with its backing NVMe.
NQN=nqn.2026-12.org.kernel.p2pmem:fabrics
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:7d8e1c52-3f0a-4b6e-9a41-5c2b8e0f1d37
HOSTID=7d8e1c52-3f0a-4b6e-9a41-5c2b8e0f1d37
A=169.254.0.1

send_msg() {	# send_msg PORT TEXT: to A, retried until it listens
	i=0
	while [ $i -lt 120 ]; do
		echo "$2" | nc -w 5 $A "$1" 2> /dev/null && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}
round() {	# round N SEEK: one write, read back and compare; sets res
	dd if=/dev/urandom of=/tmp/pat$1 bs=1M count=4 2> /dev/null
	res=failed
	check "round $1: 4 MiB written with O_DIRECT" \
		dd if=/tmp/pat$1 of="$dev" bs=128k seek="$2" oflag=direct conv=notrunc 2> /dev/null
	check "round $1: read back with O_DIRECT" \
		dd if="$dev" of=/tmp/back$1 bs=128k skip="$2" count=32 iflag=direct 2> /dev/null
	if cmp -s /tmp/pat$1 /tmp/back$1; then
		res=ok
		ok "round $1: the data read back is the data written"
	else
		not_ok "round $1: the data read back is the data written"
	fi
	res="round$1 $res $(md5sum < /tmp/pat$1 | cut -d' ' -f1)"
}

check "nvme-cli is here ($(nvme version 2>&1 | head -1))" command -v nvme
tr=$(fabrics_transport)
check "eth0 up as 169.254.0.2 (NVMe/$tr)" fabrics_link 169.254.0.2
mkdir -p /run /etc/nvme
# The target may still be booting: retry for up to two minutes.
i=0
until nvme connect -t $tr -a $A -s 4420 -n $NQN --hostnqn=$HOSTNQN \
	--hostid=$HOSTID > /tmp/connect.out 2>&1; do
	i=$((i + 1))
	[ $i -ge 60 ] && break
	sleep 2
done
check "nvme connect over $tr to $A" test $i -lt 60
[ $i -lt 60 ] || cat /tmp/connect.out
# B has no NVMe of its own: the remote namespace is the first one.
dev=/dev/nvme0n1
i=0
while [ ! -b $dev ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
check "the remote namespace is $dev, on a controller over $tr" \
	sh -c "test -b $dev && test \"\$(cat /sys/class/nvme/nvme0/transport)\" = $tr"

round 1 0
check "told the target round 1's result" send_msg 5001 "$res"
go=$(timeout 150 nc -l -p 5002 2> /dev/null)
check "the target started round 2 ($go)" test "$go" = go
round 2 64
check "nvme disconnect" nvme disconnect -n $NQN
check "told the target round 2's result" send_msg 5001 "$res"
