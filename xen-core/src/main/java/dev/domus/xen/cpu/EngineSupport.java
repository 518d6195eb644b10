// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import dev.domus.xen.memory.GuestMemory;

/**
 * The narrow view of {@link Hart} that execution engines outside this package (the JIT in {@code cpu.jit} and the
 * bytecode it generates) use. Every method is a small static the JVM inlines into its caller, so generated code pays
 * nothing for going through here instead of touching the hart's fields. The package is not exported from the
 * module, so "public" here means "for the engines".
 */
public final class EngineSupport {
    /** {@link #fetchPhysical} result: the fetch trapped and the trap has been taken. */
    public static final long FETCH_TRAPPED = -1;
    /** {@link #fetchPhysical} result: the pc is not in plain RAM (the caller interprets). */
    public static final long FETCH_NOT_RAM = -2;

    private EngineSupport() {
    }

    public static long[] x(Hart h) { return h.x; }

    public static long pc(Hart h) { return h.pc; }

    public static void setPc(Hart h, long pc) { h.pc = pc; }

    public static boolean endBatch(Hart h) { return h.endBatch; }

    public static void clearEndBatch(Hart h) { h.endBatch = false; }

    public static void retired(Hart h, int n) { h.instret += n; }

    public static GuestMemory ram(Hart h) { return h.ram; }

    public static Object engineData(Hart h) { return h.engineData; }

    public static void setEngineData(Hart h, Object data) { h.engineData = data; }

    /** Runs the interpreter; see {@link Interpreter#run}. Leaves {@code endBatch} for the caller. */
    public static int interpret(Hart h, int budget, boolean stopAtJump) {
        return Interpreter.run(h, budget, stopAtJump);
    }

    /**
     * The guest-physical address of the instruction at virtual {@code pc}, through the hart's fetch page cache, or
     * {@link #FETCH_TRAPPED} (fetch fault taken, pc now at the handler) or {@link #FETCH_NOT_RAM}.
     */
    public static long fetchPhysical(Hart h, long pc) {
        if ((pc >>> 12) == h.fetchVpage) {
            return h.ramBase + h.fetchRamOffset + (pc & 0xfff);
        }
        try {
            if ((pc & 1) != 0) {
                throw h.fault(Causes.INSN_MISALIGNED, pc);
            }
            if (h.refillFetchPage(pc)) {
                return h.ramBase + h.fetchRamOffset + (pc & 0xfff);
            }
            return FETCH_NOT_RAM;
        } catch (TrapException t) {
            h.pc = pc;
            h.takeTrap(t.cause, t.tval);
            return FETCH_TRAPPED;
        }
    }

    /**
     * Executes the one instruction at {@code pc} in the interpreter from inside a translated region (CSRs, atomics,
     * FP, fences), the region's registers already written back. {@code n} is the region's instruction count so far,
     * this instruction included: instret reads see the exact value, and writes to minstret survive the region
     * adding {@code n} at its end.
     *
     * @return true when execution simply falls through to the next instruction, so the region may go on
     */
    public static boolean stepInRegion(Hart h, long pc, int n, int len) {
        h.pc = pc;
        h.instret += n - 1;
        Interpreter.run(h, 1, false);
        h.instret -= n;
        return h.pc == pc + len && !h.endBatch;
    }

    /**
     * Called by generated code that caught {@code e} while executing the instruction at {@code pc} (registers
     * already written back): takes the trap exactly as the interpreter would. Anything but a guest trap is a bug
     * in the emulator and propagates.
     */
    public static void trapped(Hart h, RuntimeException e, long pc) {
        if (e instanceof TrapException t) {
            h.pc = pc;
            h.takeTrap(t.cause, t.tval);
            return;
        }
        throw e;
    }

    // ---- memory access for generated code: the hart's own paths (TLB fast path, MMIO and page crossing slow) ----

    public static long lb(Hart h, long va) { return (byte) h.load(va, 1); }

    public static long lbu(Hart h, long va) { return h.load(va, 1); }

    public static long lh(Hart h, long va) { return (short) h.load(va, 2); }

    public static long lhu(Hart h, long va) { return h.load(va, 2); }

    public static long lw(Hart h, long va) { return (int) h.load(va, 4); }

    public static long lwu(Hart h, long va) { return h.load(va, 4); }

    public static long ld(Hart h, long va) { return h.load(va, 8); }

    public static void sb(Hart h, long va, long v) { h.store(va, 1, v); }

    public static void sh(Hart h, long va, long v) { h.store(va, 2, v); }

    public static void sw(Hart h, long va, long v) { h.store(va, 4, v); }

    public static void sd(Hart h, long va, long v) { h.store(va, 8, v); }

    public static void fence() { java.lang.invoke.VarHandle.fullFence(); }

    // ---- the JIT's inlined load/store fast path (generated code checks the soft TLB itself) ----
    //
    // A translated region reads these at entry and after every instruction it hands to the interpreter (a CSR
    // write may change SUM, MXR, MPRV, satp or the privilege). Fast path of an access of size s at va:
    //   i = (va >>> 12) & TLB_INDEX_MASK; tag[i] == va >>> 12; (flags[i] & mask) == match; (va & 0xfff) <= 4096 - s
    //   -> RAM offset page[i] + (va & 0xfff) - ram base; a store also needs bit 0 of its page's code state clear
    // and anything else takes the accessors above (walk, A/D update, faults, MMIO, page crossing, code pages,
    // dirty logging). The masks include TLB_RAM; when data is not translated, or a store must be logged, they are
    // an impossible pair so every access takes the full path.

    /** Index mask of the soft TLB (direct mapped by virtual page number). */
    public static final int TLB_INDEX_MASK = Hart.TLB_MASK;
    /** The TLB flag "the whole page is plain RAM" (set by the walk). */
    public static final int TLB_RAM_FLAG = Hart.TLB_RAM;

    /** Registers the JIT's folded TLB sets, kept in step with the hart's TLB (see {@code Hart.jitTlb}). */
    public static void setJitTlb(Hart h, long[][] sets) { h.jitTlb = sets; }

    public static long[] tlbTag(Hart h) { return h.tlbTag; }

    public static long[] tlbPage(Hart h) { return h.tlbPage; }

    public static int[] tlbFlags(Hart h) { return h.tlbFlags; }

    /** Changes whenever the masks below may have changed, except for dirty logging (switched while paused). */
    public static int mmuEpoch(Hart h) { return h.mmuEpoch; }

    public static int jitLoadMask(Hart h) { return h.dataTranslated ? h.loadMask | Hart.TLB_RAM : 0; }

    public static int jitLoadMatch(Hart h) { return h.dataTranslated ? h.loadMatch | Hart.TLB_RAM : -1; }

    public static int jitStoreMask(Hart h) {
        return h.dataTranslated && !h.ram.dirtyLog().enabled() ? h.storeMask | Hart.TLB_RAM : 0;
    }

    public static int jitStoreMatch(Hart h) {
        return h.dataTranslated && !h.ram.dirtyLog().enabled() ? h.storeMatch | Hart.TLB_RAM : -1;
    }
}
