# SPDX-License-Identifier: GPL-2.0
#
# x86_64 q35 machine with the PCIe topology the p2pmem KUnit tests need:
#
#   pcie.0 - ioh3420 - x3130 switch - NVMe with a 64 MiB CMB
#                                   - NVMe
#                                   - ivshmem-plain (16 MiB)
#          - ioh3420 - NVMe
#          - pcie-root-port (ACS) - ivshmem-plain 00.0 and 00.1
#          - pxb-pcie (bus 0x40) - pcie-root-port - ivshmem-plain
#
# Add "--qemu_args='-device intel-iommu'" for a run under the IOMMU.

from ..qemu_config import QemuArchParams

def _nvme(n, bus, extra=''):
	return ['-blockdev', f'driver=null-co,node-name=nb{n},size=67108864',
		'-device', f'nvme,serial=p2pmem{n},drive=nb{n},bus={bus}{extra}']

def _shm(n, bus, extra=''):
	return ['-object', f'memory-backend-ram,id=shm{n},size=16M',
		'-device', f'ivshmem-plain,memdev=shm{n},bus={bus}{extra}']

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y''',
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0',
			   extra_qemu_params=[
				'-machine', 'q35', '-smp', '2',
				'-device', 'ioh3420,id=rp1,bus=pcie.0,chassis=1,slot=1',
				'-device', 'x3130-upstream,id=up1,bus=rp1',
				'-device', 'xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=0',
				'-device', 'xio3130-downstream,id=dn2,bus=up1,chassis=2,slot=1',
				'-device', 'xio3130-downstream,id=dn3,bus=up1,chassis=2,slot=2',
				*_nvme(1, 'dn1', ',cmb_size_mb=64'),
				*_nvme(2, 'dn2'),
				*_shm(1, 'dn3'),
				'-device', 'ioh3420,id=rp2,bus=pcie.0,chassis=3,slot=0',
				*_nvme(3, 'rp2'),
				'-device', 'pcie-root-port,id=rp4,bus=pcie.0,chassis=5,slot=0',
				*_shm(2, 'rp4', ',addr=0.0,multifunction=on'),
				*_shm(3, 'rp4', ',addr=0.1'),
				'-device', 'pxb-pcie,id=pxb1,bus_nr=64,bus=pcie.0',
				'-device', 'pcie-root-port,id=rp3,bus=pxb1,chassis=4,slot=0',
				*_shm(4, 'rp3'),
			   ])
