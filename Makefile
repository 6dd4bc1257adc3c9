# SPDX-License-Identifier: GPL-2.0
#
# Harness for the p2pmem series: lays the overlay and patches over
# Debian's linux-source-6.1 in build/, builds, boots and tests.
#
#   make demo     build and boot the default topology, show p2pmem working
#   make check    every test: KUnit, QEMU scenarios, debug build, static
#                 checks, the exported series; ends with "N passed, N failed"
#   make series   write a git am-able series to build/series/
#   make kernel   build/bzImage only
#   make bench    dma_map_sg cost of the shim against upstream's P2PDMA
#                 (not part of make check)
#   make mutants  mutation testing: each deliberate bug of harness/mutants/
#                 must be caught by KUnit or the QEMU scenarios (not part
#                 of make check; MUTANTS=NN for one)

SHELL := /bin/bash
H := harness
B := build
SRC := $(B)/linux-source-6.1

.PHONY: all deps tree kernel initramfs demo check series kunit scenarios \
	debug static series-check bench mutants clean

all: kernel

deps:
	@$(H)/install-deps.sh

tree: deps
	@$(H)/prepare-tree.sh $(SRC)

kernel: tree
	@$(H)/build-kernel.sh $(SRC) $(B)/obj-scenario $(H)/configs/scenario.config
	@cp $(B)/obj-scenario/arch/x86/boot/bzImage $(B)/bzImage

initramfs: tree
	@$(H)/mkinitramfs.sh $(B)/initramfs.cpio.gz

demo: kernel initramfs
	@$(H)/demo.sh

series: tree
	@$(H)/export-series.sh $(B)/series

check: deps
	@$(H)/check.sh

bench: tree
	@$(H)/bench.sh

mutants: deps
	@$(H)/mutants.sh

clean:
	rm -rf $(B)
