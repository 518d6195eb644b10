// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import java.util.Arrays;

/**
 * The architectural state of one hart for snapshots and migration. The soft TLB, the fetch page cache and the LR
 * reservation are not part of it: they are caches (a lost reservation only makes one SC fail, which the guest
 * retries).
 *
 * @param pc    program counter
 * @param priv  privilege level (0 U, 1 S, 3 M)
 * @param x     the 32 integer registers (x0 is ignored on restore)
 * @param f     the 32 floating-point registers (raw bits)
 * @param frm   dynamic rounding mode
 * @param fflags accrued floating-point exception flags
 * @param csrs  the CSRs listed in {@link #CSR_NAMES}, in that order
 * @param pmpaddr 64 PMP address registers
 * @param pmpcfg  8 PMP configuration registers
 * @param mipHw   interrupt-pending bits driven by devices and software
 * @param seipSoft software-written SEIP
 * @param waitingForInterrupt the hart was in WFI
 */
public record HartState(long pc, int priv, long[] x, long[] f, int frm, int fflags, long[] csrs, long[] pmpaddr,
                        long[] pmpcfg, long mipHw, boolean seipSoft, boolean waitingForInterrupt) {
    /** The CSR order of {@link #csrs()}; appending a CSR needs a new hart record version. */
    public static final java.util.List<String> CSR_NAMES = java.util.List.of("mstatus", "medeleg", "mideleg", "mie",
            "mtvec", "mscratch", "mepc", "mcause", "mtval", "mcounteren", "mcountinhibit", "menvcfg", "stvec",
            "sscratch", "sepc", "scause", "stval", "scounteren", "senvcfg", "satp", "stimecmp", "instret",
            "cycleOffset");

    public HartState {
        check("x", x, 32);
        check("f", f, 32);
        check("csrs", csrs, CSR_NAMES.size());
        check("pmpaddr", pmpaddr, 64);
        check("pmpcfg", pmpcfg, 8);
        if (priv != 0 && priv != 1 && priv != 3) {
            throw new IllegalArgumentException("hart privilege must be 0, 1 or 3, got " + priv);
        }
        if (frm < 0 || frm > 7 || fflags < 0 || fflags > 0x1f) {
            throw new IllegalArgumentException("frm must be 0..7 and fflags 0..31, got " + frm + " and " + fflags);
        }
        x = x.clone();
        f = f.clone();
        csrs = csrs.clone();
        pmpaddr = pmpaddr.clone();
        pmpcfg = pmpcfg.clone();
    }

    private static void check(String what, long[] a, int n) {
        if (a == null || a.length != n) {
            throw new IllegalArgumentException("hart state needs " + n + " " + what + " values, got "
                    + (a == null ? "none" : a.length));
        }
    }

    @Override public long[] x() { return x.clone(); }
    @Override public long[] f() { return f.clone(); }
    @Override public long[] csrs() { return csrs.clone(); }
    @Override public long[] pmpaddr() { return pmpaddr.clone(); }
    @Override public long[] pmpcfg() { return pmpcfg.clone(); }

    @Override
    public boolean equals(Object o) {
        return o instanceof HartState s && pc == s.pc && priv == s.priv && frm == s.frm && fflags == s.fflags
                && mipHw == s.mipHw && seipSoft == s.seipSoft && waitingForInterrupt == s.waitingForInterrupt
                && Arrays.equals(x, s.x) && Arrays.equals(f, s.f) && Arrays.equals(csrs, s.csrs)
                && Arrays.equals(pmpaddr, s.pmpaddr) && Arrays.equals(pmpcfg, s.pmpcfg);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(pc) * 31 + Arrays.hashCode(x) * 17 + Arrays.hashCode(csrs);
    }

    @Override
    public String toString() {
        return "HartState[pc=0x" + Long.toHexString(pc) + ", priv=" + priv + "]";
    }
}
