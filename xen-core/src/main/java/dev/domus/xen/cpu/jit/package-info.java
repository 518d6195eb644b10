// SPDX-License-Identifier: Apache-2.0
/**
 * The translating CPU engine: guest code regions are compiled to JVM bytecode with {@code java.lang.classfile},
 * loaded as hidden classes (on a background compiler thread) and run by a dispatcher behind
 * {@link dev.domus.xen.cpu.CpuEngine}. The interpreter stays the reference and runs everything this package does
 * not translate (cold code, CSRs, atomics, FP).
 */
package dev.domus.xen.cpu.jit;
