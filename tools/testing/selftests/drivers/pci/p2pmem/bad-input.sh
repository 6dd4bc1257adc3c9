# SPDX-License-Identifier: GPL-2.0
# Bad input on every user-facing interface of p2pmem, as one table: the
# sysfs files of the provider's PCI device and of its class device, the
# debugfs test client and the read-only debugfs files, the override
# parameter, the nvmet namespace's p2pmem attribute in configfs, and
# p2pmem/allocate through mmap, mremap, munmap, madvise, fork and O_DIRECT.
#
# Each row does one misuse with p2pmem_bad_user, which prints the errno it
# got (or SIGBUS; ok for a misuse the kernel makes harmless; short:N for an
# O_DIRECT transfer cut short where the mapping ends; CHANGED when the
# buffer or the block device it used changed), and compares the state the
# row names before and after:
#   pci      published, size and available of the PCI device's p2pmem/
#   cls      the /sys/class/p2pmem listing and the class device's files
#   stats    /sys/kernel/debug/p2pmem/<cmb>/stats
#   verdicts /sys/kernel/debug/p2pmem/verdicts
#   clients  /sys/kernel/debug/p2pmem/clients
#   client   what the test client shows: its last result and what it holds
#   ovr      the override parameter
#   cfg      p2pmem, enable and p2pmem_stat of the bad-input namespaces
# A row's setup (or -) runs before the first snapshot, its undo after the
# second. Rows that map p2pmem leave stats out: every mapping counts its
# pages as allocations and frees by design.

wait_provider
find_nvmes
bad=/scenario/p2pmem_bad_user
check "the helper $bad runs" test "$("$bad" read /proc/version 2>&1)" = ok

cls=$(class_of "$cmb")
pci=/sys/bus/pci/devices/$cmb/p2pmem
cl=/sys/class/p2pmem/$cls
dbg=/sys/kernel/debug/p2pmem
st=$dbg/$cmb/stats
ov=/sys/module/p2pmem/parameters/override
src=$(blk "$plain")
dst=$(blk "$cmb")
far=$(blk "$other")
S=/dev/$src
D=/dev/$dst
# the switch downstream port above the CMB: a PCI device, no provider
dsp=$(basename "$(dirname "$(readlink -f /sys/bus/pci/devices/$cmb)")")
check "the CMB is $cls, the namespaces $src, $dst and $far, the port $dsp" \
	test -n "$cls" -a -b "/dev/$src" -a -b "$D" -a -b "/dev/$far" -a -n "$dsp"

dd if=/dev/zero of=/tmp/loopfile bs=65536 count=16 2> /dev/null
losetup /dev/loop0 /tmp/loopfile
check "a loop device to refuse p2pmem" test -b /dev/loop0
: > /tmp/notblk

# Three namespaces of one subsystem: 1 on the NVMe beside the CMB, 2 on the
# loop device with p2pmem=1, 3 on the NVMe beside the CMB, enabled.
sub=/sys/kernel/config/nvmet/subsystems/nqn.2026-12.org.kernel.p2pmem:bad-input
mkdir "$sub"
for i in 1 2 3; do mkdir "$sub/namespaces/$i"; done
ns=$sub/namespaces/1
ns2=$sub/namespaces/2
ns3=$sub/namespaces/3
printf '%s' "/dev/$src" > "$ns/device_path"
printf '%s' /dev/loop0 > "$ns2/device_path"
printf '%s' "/dev/$src" > "$ns3/device_path"
echo 1 > "$ns2/p2pmem"
echo auto > "$ns3/p2pmem"
check "the nvmet namespaces exist, 3 enabled with p2pmem=auto" \
	sh -c "echo 1 > $ns3/enable && test \"\$(cat $ns3/p2pmem)\" = \"auto $cmb\""

longx=$(printf '%5000s' '' | tr ' ' x)
longline="release$(printf '%200s' '')"
ovlong="pci0000:00=host$(printf '%700s' '')"
ov17=$(i=0; while [ $i -lt 17 ]; do printf '0000:00:%02x.0=host;' $i; i=$((i + 1)); done)

w() {	# w FILE DATA: one write, its errno
	"$bad" write "$1" "$2"
}
u() {	# u CASE [DEV]: one misuse of the CMB's p2pmem/allocate
	c=$1
	shift
	"$bad" "$c" "$cmb" "$@"
}

snap() {	# snap STATE: the state a row compares, STATE as in the table
	for s in $(echo "$1" | tr , ' '); do
		echo "[$s]"
		case $s in
		pci) cat "$pci/published" "$pci/size" "$pci/available" ;;
		cls) ls /sys/class/p2pmem; cat "$cl/published" "$cl/size" "$cl/available" ;;
		stats) cat "$st" ;;
		verdicts) cat "$dbg/verdicts" ;;
		clients) cat "$dbg/clients" ;;
		client) cat "$client" ;;
		ovr) cat "$ov" ;;
		cfg) for n in "$ns" "$ns2" "$ns3"; do
			cat "$n/p2pmem" "$n/enable" "$n/p2pmem_stat"
		     done ;;
		*) echo "no state $s" ;;
		esac
	done 2>&1
}

hold16() {	# the test client's 16 slots all held, one page each
	i=0
	while [ $i -lt 16 ]; do
		write "hold $cmb 4096" "$client"
		i=$((i + 1))
	done
}
undo_hold16() {
	write release "$client"
}
ovset() {	# an override in force, for a bad one to keep
	write "pci0000:00=host" "$ov"
}
undo_ovset() {
	write "" "$ov"
}
unpub() {	# the CMB withdrawn
	write 0 "$cl/published"
}
undo_unpub() {
	write 1 "$cl/published"
}

rows=0
while read -r id ifc want state setup cmd; do
	case $id in '' | '#'*) continue ;; esac
	rows=$((rows + 1))
	[ "$setup" = - ] || $setup
	before=$(snap "$state")
	got=$(eval "$cmd" < /dev/null 2>&1 | tail -n 1)
	after=$(snap "$state")
	[ "$setup" = - ] || "undo_$setup"
	if [ "$got" = "$want" ] && [ "$after" = "$before" ]; then
		ok "$id $ifc: $cmd: $want, $state unchanged"
	else
		not_ok "$id $ifc: $cmd: wanted $want, got '$got'"
		[ "$after" = "$before" ] || {
			echo "$before" | sed 's/^/# before: /'
			echo "$after" | sed 's/^/# after: /'
		}
	fi
done <<'EOT'
# id interface expected state setup command
s01 sysfs    EACCES     pci,cls,stats            -      w $pci/size 1
s02 sysfs    EACCES     pci,cls,stats            -      w $pci/available 0
s03 sysfs    EACCES     pci,cls,stats            -      w $pci/published 0
s04 sysfs    EIO        pci,cls,stats            -      u allocate-read
s05 sysfs    EIO        pci,cls,stats            -      u allocate-write
c01 class    EACCES     pci,cls,stats            -      w $cl/size 1
c02 class    EACCES     pci,cls,stats            -      w $cl/available 1
c03 class    EINVAL     pci,cls,stats            -      w $cl/published 2
c04 class    EINVAL     pci,cls,stats            -      w $cl/published '\n'
c05 class    EINVAL     pci,cls,stats            -      w $cl/published -1
c06 class    EINVAL     pci,cls,stats            -      w $cl/published o
c07 class    EINVAL     pci,cls,stats            -      w $cl/published '\01'
c08 class    EINVAL     pci,cls,stats            -      w $cl/published "$longx"
c09 class    EINVAL     pci,cls,stats            -      w $cl/uevent frob
d01 debugfs  EINVAL     client,stats,pci         -      w $client frobnicate
d02 debugfs  EINVAL     client,stats,pci         -      w $client '\n'
d03 debugfs  EINVAL     client,stats,pci         -      w $client "$longline"
d04 debugfs  EINVAL     client,stats,pci         -      w $client roundtrip
d05 debugfs  EINVAL     client,stats,pci         -      w $client "release now"
d06 debugfs  EINVAL     client,stats,pci         -      w $client "roundtrip zz 4096"
d07 debugfs  ENODEV     client,stats,pci         -      w $client "roundtrip 0000:99:00.0 4096"
d08 debugfs  EINVAL     client,stats,pci         -      w $client "roundtrip $cmb 0"
d09 debugfs  EINVAL     client,stats,pci         -      w $client "roundtrip $cmb 2147483648"
d10 debugfs  EINVAL     client,stats,pci         -      w $client "roundtrip $cmb -1"
d11 debugfs  EINVAL     client,stats,pci         -      w $client "roundtrip $cmb 4096junk"
d12 debugfs  EINVAL     client,stats,pci         -      w $client "hold $cmb 4096 4096"
d13 debugfs  EINVAL     client,stats,pci         -      w $client "hold ${cmb}x 4096"
d14 debugfs  ENOSPC     client,stats,pci         hold16 w $client "hold $cmb 4096"
d15 debugfs  EINVAL     client,stats,pci,clients -      w $client "map $cmb $plain 0"
d16 debugfs  EINVAL     client,stats,pci,clients -      w $client "map $cmb $plain 6000"
d17 debugfs  EINVAL     client,stats,pci,clients -      w $client "map $cmb $plain 69632"
d18 debugfs  EINVAL     client,stats,pci,clients -      w $client "map $cmb $plain 17592186044416"
d19 debugfs  ENODEV     client,stats,pci,clients -      w $client "map $cmb 0000:99:00.0 4096"
d20 debugfs  EINVAL     client,stats,pci,clients -      w $client "map $cmb $plain"
d21 debugfs  EINVAL     client,stats,pci,clients -      w $client "copy $S $D $cmb 1 4096"
d22 debugfs  EINVAL     client,stats,pci,clients -      w $client "copy $S $D $cmb 0 1000"
d23 debugfs  EINVAL     client,stats,pci,clients -      w $client "copy $S $D $cmb 0 0"
d24 debugfs  EINVAL     client,stats,pci,clients -      w $client "copy $S $D $cmb 0 2097152"
d25 debugfs  ENOENT     client,stats,pci,clients -      w $client "copy /dev/nosuch $D $cmb 0 4096"
d26 debugfs  ENOTBLK    client,stats,pci,clients -      w $client "copy /tmp/notblk $D $cmb 0 4096"
d27 debugfs  ENODEV     client,stats,pci,clients -      w $client "copy $S $D 0000:99:00.0 0 4096"
d28 debugfs  EINVAL     client,stats,pci,clients -      w $client "copy $S $D $cmb 0"
d29 debugfs  EINVAL     verdicts,clients,stats   -      w $dbg/verdicts x
d30 debugfs  EINVAL     verdicts,clients,stats   -      w $dbg/clients x
d31 debugfs  EINVAL     verdicts,clients,stats   -      w $st x
o01 override EINVAL     ovr,verdicts             ovset  w $ov pci0000:00=sideways
o02 override EINVAL     ovr,verdicts             ovset  w $ov garbage
o03 override EINVAL     ovr,verdicts             ovset  w $ov 0000:00:1c.0
o04 override EINVAL     ovr,verdicts             ovset  w $ov =host
o05 override EINVAL     ovr,verdicts             ovset  w $ov pci0000:00=bus
o06 override EINVAL     ovr,verdicts             ovset  w $ov 0000:00:20.0=host
o07 override EINVAL     ovr,verdicts             ovset  w $ov 0000:00:1f.8=host
o08 override EINVAL     ovr,verdicts             ovset  w $ov 0000:1:00.0=host
o09 override EINVAL     ovr,verdicts             ovset  w $ov "$cmb,pci0000:00=host"
o10 override EINVAL     ovr,verdicts             ovset  w $ov "$cmb,=none"
o11 override EINVAL     ovr,verdicts             ovset  w $ov "$cmb,$plain,$other=none"
o12 override EINVAL     ovr,verdicts             ovset  w $ov "$cmb,$plain=HOST"
o13 override EINVAL     ovr,verdicts             ovset  w $ov "pci0000:00=none;bad"
o14 override EINVAL     ovr,verdicts             ovset  w $ov "$ov17"
o15 override EINVAL     ovr,verdicts             ovset  w $ov "$ovlong"
f01 configfs EINVAL     cfg,pci                  -      w $ns/p2pmem 2
f02 configfs EINVAL     cfg,pci                  -      w $ns/p2pmem yesno
f03 configfs EINVAL     cfg,pci                  -      w $ns/p2pmem '\n'
f04 configfs EINVAL     cfg,pci                  -      w $ns/p2pmem '\01'
f05 configfs EINVAL     cfg,pci                  -      w $ns/p2pmem "$longx"
f06 configfs ENODEV     cfg,pci                  -      w $ns/p2pmem p2pmem9
f07 configfs ENODEV     cfg,pci                  -      w $ns/p2pmem 0000:99:00.0
f08 configfs ENODEV     cfg,pci                  -      w $ns/p2pmem $plain
f09 configfs ENODEV     cfg,pci                  -      w $ns/p2pmem $dsp
f10 configfs ENODEV     cfg,pci                  unpub  w $ns/p2pmem $cmb
f11 configfs EACCES     cfg,pci                  -      w $ns/p2pmem_stat 0
f12 configfs EINVAL     cfg,pci                  -      w $ns2/enable 1
f13 configfs EBUSY      cfg,pci                  -      w $ns3/p2pmem 0
f14 configfs EBUSY      cfg,pci                  -      w $ns3/p2pmem $cmb
m01 mmap     EINVAL     pci,cls,clients          -      u private
m02 mmap     EINVAL     pci,cls,clients          -      u offset
m03 mmap     EINVAL     pci,cls,clients          -      u zero-length
m04 mmap     ENOMEM     pci,cls,clients          -      u beyond-available
m05 mmap     EACCES     pci,cls,clients          -      u write-on-read-only-open
m06 mmap     EACCES     pci,cls,clients          -      u read-on-write-only-open
m07 mmap     EOPNOTSUPP pci,cls,clients          -      u map-sync
m08 mmap     EACCES     pci,cls,clients          -      u mprotect-write-read-only-open
m09 mmap     EFAULT     pci,cls,clients          -      u mremap-grow
m10 mmap     ok         pci,cls,clients          -      u mremap-move
m11 mmap     EINVAL     pci,cls,clients          -      u munmap-misaligned
m12 mmap     EINVAL     pci,cls,clients          -      u munmap-zero-length
m13 mmap     EINVAL     pci,cls,clients          -      u madv-free
m14 mmap     EOPNOTSUPP pci,cls,clients          -      u madv-remove
m15 mmap     ok         pci,cls,clients          -      u madv-pageout
m16 mmap     ok         pci,cls,clients          -      u madv-cold
m17 mmap     EREMOTEIO  pci,cls,clients          -      u mlock
m18 mmap     SIGBUS     pci,cls,clients          -      u dontneed-then-access
m19 mmap     ok         pci,cls,clients          -      u fork-parent-unmaps
i01 odirect  EINVAL     pci,cls                  -      u odirect-read-misaligned-buffer /dev/$src
i02 odirect  EINVAL     pci,cls                  -      u odirect-write-misaligned-buffer /dev/$src
i03 odirect  EINVAL     pci,cls                  -      u odirect-read-misaligned-length /dev/$src
i04 odirect  EINVAL     pci,cls                  -      u odirect-write-misaligned-length /dev/$src
i05 odirect  EINVAL     pci,cls                  -      u odirect-read-misaligned-offset /dev/$src
i06 odirect  EINVAL     pci,cls                  -      u odirect-write-misaligned-offset /dev/$src
i07 odirect  EREMOTEIO  pci,cls                  -      u odirect-read /dev/loop0
i08 odirect  EREMOTEIO  pci,cls                  -      u odirect-write /dev/loop0
i09 odirect  EREMOTEIO  pci,cls                  -      u odirect-read /dev/$far
i10 odirect  EREMOTEIO  pci,cls                  -      u odirect-write /dev/$far
i11 odirect  short:4096 pci,cls                  -      u odirect-read-past-mapping /dev/$src
EOT
check "the table had $rows rows, at least 64" test "$rows" -ge 64

echo 0 > "$ns3/enable"
for i in 1 2 3; do rmdir "$sub/namespaces/$i"; done
rmdir "$sub"
losetup -d /dev/loop0
check "afterwards the test client holds nothing and all but the queues is available" \
	test "$(grep -c held "$client")" = 0 -a "$(cat "$pci/available")" = $((67108864 - 131072))
