# SPDX-License-Identifier: GPL-2.0
# The NVMe-oF benchmark of `make bench` (not a test of make check), target
# side (guest A; guest B runs fabrics-bench-host.sh). One subsystem with
# two namespaces on the same backing NVMe: 1 with p2pmem=auto (the CMB
# beside it), 2 with p2pmem=0. For each round and namespace B writes and
# reads back MIB MiB over TCP (or RDMA) with O_DIRECT and compares it; around each
# run A samples its busy CPU time (/proc/stat: the whole target guest, so
# nvmet-tcp's workers, softirqs and completions count), the host memory the
# backing NVMe mapped for DMA (its "host" counter in debugfs) and the
# namespace's p2pmem_stat, and prints
#   # fabrics-bench KIND ROUND MIB SECONDS CPU_S HOST_BYTES P2P_REQS FALLBACK_REQS
# (SECONDS as B measured them). Three rounds, taking turns; the kernel
# argument fabrics_bench_mib=MIB sets the size (default 16).
NQN=nqn.2026-12.org.kernel.p2pmem:fabrics-bench
S=/sys/kernel/config/nvmet
sub=$S/subsystems/$NQN

mib=$(sed -n 's/.*fabrics_bench_mib=\([0-9]*\).*/\1/p' /proc/cmdline)
mib=${mib:-16}
busy() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
send_msg() {	# send_msg TEXT: to B, retried until it listens
	i=0
	while [ $i -lt 120 ]; do
		echo "$1" | nc -w 5 169.254.0.2 5002 2> /dev/null && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

find_nvmes
wait_provider
backing=/dev/$(blk "$plain")
check "the backing NVMe is $backing" test -b "$backing"
tr=$(fabrics_transport)
check "eth0 up as 169.254.0.1 (NVMe/$tr)" fabrics_link 169.254.0.1
mkdir "$sub" && echo 1 > "$sub/attr_allow_any_host"
for id in 1 2; do
	mkdir "$sub/namespaces/$id"
	printf '%s' "$backing" > "$sub/namespaces/$id/device_path"
done
echo auto > "$sub/namespaces/1/p2pmem"
echo 1 > "$sub/namespaces/1/enable"
echo 1 > "$sub/namespaces/2/enable"
check "namespace 1 in p2pmem of $cmb, namespace 2 in host memory" \
	test "$(cat "$sub/namespaces/1/p2pmem")" = "auto $cmb" -a \
	     "$(cat "$sub/namespaces/2/p2pmem")" = 0
port=$S/ports/1
mkdir "$port"
echo "$tr" > "$port/addr_trtype"
echo ipv4 > "$port/addr_adrfam"
echo 169.254.0.1 > "$port/addr_traddr"
echo 4420 > "$port/addr_trsvcid"
check "the $tr port listens" ln -s "$sub" "$port/subsystems/$NQN"

hz=$(getconf CLK_TCK 2> /dev/null || echo 100)
# The host's connect reads both namespaces' partition tables: let that
# pass before the first round, or it counts in it.
m=$(timeout 200 nc -l -p 5001 2> /dev/null)
check "the host connected ($m)" test "$m" = ready
check "the shim counts host memory (p2pmem.count_host)" count_host Y
for r in 1 2 3; do
	for kind in p2p host; do
		[ $kind = p2p ] && nsid=1 || nsid=2
		st=$sub/namespaces/$nsid/p2pmem_stat
		h0=$(client_bytes "$plain" host)
		q0=$(cut -d' ' -f1 "$st")
		f0=$(cut -d' ' -f2 "$st")
		b0=$(busy)
		check "$kind round $r started" send_msg "go $kind $r $nsid $mib"
		m=$(timeout 200 nc -l -p 5001 2> /dev/null)
		b1=$(busy)
		check "$kind round $r: the host wrote, read back and compared $mib MiB ($m)" \
			match "$m" "^done $kind $r [0-9.]* ok\$"
		cpu=$(awk -v t=$((b1 - b0)) -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }')
		echo "# fabrics-bench $kind $r $mib $(echo "$m" | cut -d' ' -f4) $cpu" \
			"$(($(client_bytes "$plain" host) - h0))" \
			"$(($(cut -d' ' -f1 "$st") - q0)) $(($(cut -d' ' -f2 "$st") - f0))"
	done
done
check "told the host to disconnect" send_msg end
m=$(timeout 200 nc -l -p 5001 2> /dev/null)
check "the host disconnected ($m)" test "$m" = bye
rm "$port/subsystems/$NQN"
rmdir "$port"
for id in 1 2; do
	echo 0 > "$sub/namespaces/$id/enable"
	rmdir "$sub/namespaces/$id"
done
rmdir "$sub"
