#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print, one per line, the QEMU arguments of a kunit.py qemu_config
(machine and devices), read with kunit.py's own loader, so the harness
can boot the KUnit topology itself when it needs a userspace after the
tests (the kmemleak scan of the debug run).

  kunit-qemu-args.py <kernel tree> <qemu_config.py>
"""
import os
import sys

src, cfg = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, 'tools/testing/kunit'))
import kunit_kernel  # noqa: E402

_, ops = kunit_kernel._get_qemu_ops(os.path.join(src, cfg), [], None)
print('\n'.join(ops._extra_qemu_params))
