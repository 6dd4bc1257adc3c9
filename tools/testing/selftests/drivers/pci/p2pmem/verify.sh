# SPDX-License-Identifier: GPL-2.0
# tools/p2pmem/p2pmem-verify: reads the same blocks of every NVMe into host
# memory and into every provider's memory and compares them. Under
# intel-iommu a forced bus address route through QEMU's switch returns
# wrong data with a success status: the tool must catch exactly that pair,
# and --fix must set it to "none". Without an IOMMU the route works and
# there is nothing to fix.

wait_provider

find_nvmes
ov=/sys/module/p2pmem/parameters/override

for d in $cmb $plain $other; do
	dd if=/dev/urandom of=/dev/$(blk $d) bs=65536 count=1 oflag=direct 2>/dev/null
done
verify() {
	out=$(p2pmem-verify "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
}
pair() {
	# the line of the table for the CMB and client $1
	echo "$out" | grep "^$cmb  *$1 "
}

check "force the bus address route for $cmb,$plain" write "$cmb,$plain=bus" $ov
verify
check "the CMB's own namespace checks out" match "$(pair $cmb)" " ok$"
check "the NVMe on the other root port is refused" match "$(pair $other)" "not-supported .*refused"
if [ "$(expect_iommu)" = 1 ]; then
	check "under intel-iommu p2pmem-verify catches the forced bus route of $plain" \
		match "$(pair $plain)" "bus-address .*MISMATCH$"
	check "it exits 1, with one mismatching pair" \
		test $rc = 1 -a -n "$(echo "$out" | grep '1 mismatching')"
	verify --fix
	check "--fix sets the pair to none" match "$out" "--fix: set $cmb,$plain=none"
	check "in place of the pair's bus override" test "$(cat $ov)" = "$cmb,$plain=none"
	verify
	check "afterwards the pair is refused" match "$(pair $plain)" "not-supported .*refused"
	check "and p2pmem-verify passes" test $rc = 0
else
	check "without an IOMMU the bus route of $plain checks out" \
		match "$(pair $plain)" "bus-address .*ok$"
	check "it exits 0, with no mismatching pair" \
		test $rc = 0 -a -n "$(echo "$out" | grep '0 mismatching')"
	verify --fix
	check "--fix has nothing to fix" not match "$out" "--fix: set"
	check "the override is unchanged" test "$(cat $ov)" = "$cmb,$plain=bus"
	verify
	check "the pair still checks out" match "$(pair $plain)" "bus-address .*ok$"
	check "and p2pmem-verify passes" test $rc = 0
fi
write "" $ov
