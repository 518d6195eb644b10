// SPDX-License-Identifier: Apache-2.0
/**
 * The RISC-V F and D floating-point unit: IEEE 754 binary32/binary64 arithmetic, conversions and comparisons that
 * are bit-for-bit what a RISC-V hart produces, including every rounding mode and the fflags exception flags. The
 * CPU decodes instructions, resolves the dynamic rounding mode and NaN-boxes registers; {@link
 * dev.domus.xen.cpu.fpu.Fpu} does the arithmetic on raw bits.
 */
package dev.domus.xen.cpu.fpu;
