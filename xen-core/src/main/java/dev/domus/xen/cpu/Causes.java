// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

/** Exception and interrupt cause codes of the privileged architecture (mcause/scause values). */
public final class Causes {
    public static final int INSN_MISALIGNED = 0;
    public static final int INSN_ACCESS = 1;
    public static final int ILLEGAL_INSN = 2;
    public static final int BREAKPOINT = 3;
    public static final int LOAD_MISALIGNED = 4;
    public static final int LOAD_ACCESS = 5;
    public static final int STORE_MISALIGNED = 6;
    public static final int STORE_ACCESS = 7;
    public static final int ECALL_U = 8;
    public static final int ECALL_S = 9;
    public static final int ECALL_M = 11;
    public static final int INSN_PAGE_FAULT = 12;
    public static final int LOAD_PAGE_FAULT = 13;
    public static final int STORE_PAGE_FAULT = 15;
    /** Set in the cause register for interrupts. */
    public static final long INTERRUPT = 1L << 63;

    private Causes() {
    }
}
