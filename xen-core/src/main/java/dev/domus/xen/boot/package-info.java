// SPDX-License-Identifier: Apache-2.0
/**
 * Assembles and boots machines: validates kernel and initramfs, lays out guest RAM (kernel at RAM + text_offset,
 * initramfs and device tree at the top), wires devices to the bus and harts to host threads.
 */
package dev.domus.xen.boot;
