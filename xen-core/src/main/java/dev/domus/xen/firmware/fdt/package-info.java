// SPDX-License-Identifier: Apache-2.0
/**
 * Flattened device tree output: {@link dev.domus.xen.firmware.fdt.FdtWriter} serialises any tree to a DTB (version
 * 17), and {@link dev.domus.xen.firmware.fdt.VirtDeviceTree} describes the QEMU-virt-compatible machine with it.
 */
package dev.domus.xen.firmware.fdt;
