// SPDX-License-Identifier: Apache-2.0
/**
 * The RV64GC hart: the ISA declared as data ({@link dev.domus.xen.cpu.Op}, compiled by
 * {@link dev.domus.xen.cpu.Decoder}, compressed forms expanded by {@link dev.domus.xen.cpu.Rvc}), architectural state
 * with CSRs, traps, interrupts and the Sv39 MMU ({@link dev.domus.xen.cpu.Hart}), and the execution engines behind
 * {@link dev.domus.xen.cpu.CpuEngine}. The exact IEEE-754 arithmetic lives in {@code fpu}.
 */
package dev.domus.xen.cpu;
