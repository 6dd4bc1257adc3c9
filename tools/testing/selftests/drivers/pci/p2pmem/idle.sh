# SPDX-License-Identifier: GPL-2.0
# No checks of its own: for boots whose tests run inside the kernel
# (the KUnit suites of the debug kernel), so that init still scans
# kmemleak after them.
