#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the p2pmem KUnit suites on QEMU q35 with the topology of
# tools/testing/kunit/qemu_configs/x86_64_p2pmem.py. The kernels have the
# suites built in (CONFIG_KUNIT_DEFAULT_ENABLED=n keeps them from running
# in the scenarios), so no kernel is built for KUnit alone.
#   kunit.sh          check drivers/pci/p2pmem/.kunitconfig with kunit.py
#                     config, then kunit.py exec on build/obj-scenario, on
#                     dma-direct and again with -device intel-iommu (make
#                     mutants)
#   kunit.sh debug    make check: the .kunitconfig check; kunit.py exec on
#                     the debug kernel (build/obj-debug) on dma-direct; and
#                     beside it, the debug kernel booted by the harness so
#                     that init scans kmemleak after the suites, on
#                     dma-direct and again under intel-iommu (kunit.py
#                     parse reads the results)
# harness/results.py judges each run against harness/expected-results.
. "$(dirname "$0")/env.sh"
SRC=$B/linux-source-6.1
R=$B/results
L=$B/logs
QC=tools/testing/kunit/qemu_configs/x86_64_p2pmem.py
# The dma suite's test_dma_iommu_state fails unless the clients' DMA is
# translated exactly when this says so.
IOMMU_PARAM=p2pmem_dma_test.expect_iommu
results=$top/harness/results.py
export PATH=$PATH	# kunit.py calls make and qemu from PATH
mkdir -p "$R" "$L"
cd "$SRC" || exit 1
st=0

# The .kunitconfig must still give a kernel with every option it asks for.
rm -rf "$B/obj-kunitconfig"
if ./tools/testing/kunit/kunit.py config --arch=x86_64 --build_dir="$B/obj-kunitconfig" \
	--kunitconfig=drivers/pci/p2pmem/.kunitconfig --qemu_config="$QC" \
	--make_options CC="ccache gcc" > "$L/kunit-config.log" 2>&1; then
	echo "  kunit-config: ok: kunit.py config takes drivers/pci/p2pmem/.kunitconfig"
	echo "1 0 0" > "$R/kunit-config"
else
	echo "  kunit-config: not ok: kunit.py config (log $L/kunit-config.log)"
	tail -5 "$L/kunit-config.log" | sed 's/^/    /'
	echo "0 1 0" > "$R/kunit-config"
	st=1
fi

run() {	# run OBJDIR NAME IOMMU(yes|no) [kunit.py exec args]
	local obj=$1 name=$2 iommu=$3 expect=0 rc
	shift 3
	[ "$iommu" = yes ] && expect=1
	rm -f "$L/$name.json" "$obj/test.log"
	./tools/testing/kunit/kunit.py exec --arch=x86_64 --build_dir="$obj" \
		--qemu_config="$QC" --timeout 900 --json="$L/$name.json" \
		--kernel_args "$IOMMU_PARAM=$expect" "$@" 'p2pmem*' > "$L/$name.log" 2>&1
	rc=$?
	cp "$obj/test.log" "$L/$name.console" 2>/dev/null
	python3 "$results" kunit "$name" "$L/$name.json" "$L/$name.console" "$rc" \
		"$R/$name" --iommu "$iommu" || st=1
}

if [ "${1:-}" != debug ]; then
	run "$B/obj-scenario" kunit-dma-direct no
	run "$B/obj-scenario" kunit-intel-iommu yes --qemu_args='-device intel-iommu'
	exit $st
fi

# The debug kernel: kunit.py exec on dma-direct beside the first of the
# harness's boots (each guest takes one core; about 2 minutes each).
obj=$B/obj-debug
# KASAN under TCG, beside another guest, can take longer than the default
# 21 s RCU stall timeout in early boot (ACPI): give it 60 s, as the
# scenarios do.
(st=0; run "$obj" kunit-exec-debug no --kernel_args rcupdate.rcu_cpu_stall_timeout=60
 exit $st) &
exec_pid=$!
# Booted twice: on dma-direct and under intel-iommu, so that the IOMMU's
# paths of the shim run with KASAN and lockdep too, and kmemleak scanned
# after each.
for iommu in no yes; do
	name=kunit-debug expect=0
	[ $iommu = yes ] && name=kunit-debug-iommu expect=1
	SCENARIO_TOPOLOGY=kunit SCENARIO_KMEMLEAK=1 SCENARIO_TIMEOUT=900 \
	SCENARIO_IOMMU=$iommu \
		"$top/harness/run-scenario.sh" "$obj/arch/x86/boot/bzImage" idle \
		"$R/$name-boot" loglevel=7 rcupdate.rcu_cpu_stall_timeout=60 kunit.enable=1 'kunit.filter_glob=p2pmem*' \
		"$IOMMU_PARAM=$expect" || st=1
	./tools/testing/kunit/kunit.py parse --json="$L/$name.json" \
		"$L/$name-boot.log.txt" > "$L/$name.log" 2>&1
	rc=$?
	python3 "$results" kunit "$name" "$L/$name.json" \
		"$L/$name-boot.log.txt" "$rc" "$R/$name" --iommu $iommu || st=1
done
wait $exec_pid || st=1
exit $st
