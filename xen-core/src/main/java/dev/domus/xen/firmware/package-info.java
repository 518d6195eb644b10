// SPDX-License-Identifier: Apache-2.0
/**
 * Firmware provided by the host instead of guest code: the SBI implementation that is Domus's hypercall interface,
 * and (in {@code fdt}) the flattened device tree handed to the guest kernel at boot.
 */
package dev.domus.xen.firmware;
