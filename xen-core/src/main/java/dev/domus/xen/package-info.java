// SPDX-License-Identifier: Apache-2.0
/**
 * xen-core: a full-system RISC-V RV64GC virtual machine (CPU, MMU, platform devices, SBI firmware) and the domain
 * toolstack built on it. Sub-packages are layered: {@code memory} and {@code bus} at the bottom, {@code cpu} and
 * {@code devices} above, {@code firmware} and {@code boot} assemble a machine, {@code domain} and {@code cli} run it.
 */
package dev.domus.xen;
