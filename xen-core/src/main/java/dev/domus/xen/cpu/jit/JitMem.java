// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

import dev.domus.xen.cpu.EngineSupport;
import dev.domus.xen.cpu.Hart;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Loads and stores of translated code: the soft-TLB fast path, with the hart's full path as the fallback.
 *
 * <p>Why a class of its own. Generated code used to call {@link EngineSupport}'s accessors, which go through
 * {@code Hart.load}/{@code Hart.store}: C2 inlined the load (without knowing the access size until after
 * inlining) but never the store (its compiled code is over {@code InlineSmallCode}), so every store was a real
 * call and every call spills all guest registers the region holds in machine registers (gzip: ~70 % of its
 * samples in the load/store paths). Each method here is one access size. Its first level is one compare against
 * a folded TLB ({@link #fast}: the tag only matches when the access is aligned and the current mode's permission
 * check, which includes "the page is plain RAM", passed when the entry was taken) and one host memory access
 * through a constant all-of-memory segment (see {@link #ALL}); a store also requires the page to hold no
 * translated or decoded code, checked at every store. The second level, on a miss, is the hart TLB's tag compare,
 * permission check of the current mode and page-crossing check, which also fills the first level (xen-core
 * README, JIT round 9). The fallback ({@code EngineSupport.lw} and
 * so on: table walk, A/D bits, faults, MMIO, crossing, code-page generation, dirty log) is a call on the cold
 * branch. The methods are too big for C1 to inline (C1 would expand the segment access machinery at every site
 * and run out of virtual registers on big regions) and small enough for C2 to inline at every hot site.
 *
 * <p>One instance per hart, created by its engine; {@link #refresh} takes the hart's current permission checks at
 * every batch start, and {@link #revalidate} again before the dispatcher enters a region and after every instruction a region hands to
 * the interpreter whenever the hart's MMU epoch moved (a CSR write, trap or xRET may change the privilege, SUM,
 * MXR, MPRV or satp; a satp write or sfence.vma empties the TLB arrays in place). Dirty logging
 * or untranslated data accesses make the checks an impossible pair, so then every access takes the full path.
 */
final class JitMem {
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final int IDX = EngineSupport.TLB_INDEX_MASK;
    /**
     * All of the process's address space as one segment, held in a constant. Why: an access through the RAM
     * segment (an instance field) made C2 load its bounds, base and scope and check them at every guest access
     * (JFR: ~35 % of gzip's samples on {@code Preconditions.checkIndex}), and HotSpot could not hoist those loads
     * across the raw stores in between. This segment's bounds and scope are constants C2 folds, so an access is the
     * TLB check plus one machine load or store. Safe because an address is only formed from a TLB entry that has
     * {@code TLB_RAM} (the walk proved the whole page is inside guest RAM) and guest RAM is unmapped only after every
     * vCPU thread of its machine has ended ({@code VirtMachine.close}).
     */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    final Hart h;
    private final long[] tag;
    private final long[] page;
    private final int[] flags;
    private final int[] code;
    /** Host address of guest-physical address 0: RAM segment address minus RAM base. */
    private final long host;
    private final long ramBase;
    private int loadMask;
    private int loadMatch;
    private int storeMask;
    private int storeMatch;
    private int epoch;
    /**
     * Folded TLB of the current checks: per hart TLB index i, {@code fast[4i]} the virtual page base when a load
     * there may take the fast path under the current checks (else -1), {@code fast[4i+1]} the same for stores,
     * {@code fast[4i+2]} the host address minus the virtual address of the page, {@code fast[4i+3]} the page's
     * index in the code states. An access is one tag compare (which also rejects misaligned addresses, so it
     * never crosses a page), plus the code-state check for a store. Filled on the second level (the hart TLB
     * check below), valid while the hart's entry i is unchanged (the hart drops index i whenever it changes it).
     * One set per combination of checks ({@link #SETS}, taken over round robin), so a trap or xRET switches sets
     * instead of emptying one.
     */
    private long[] fast;
    private static final int SETS = 3;
    private final long[][] sets = new long[SETS][4 * (IDX + 1)];
    private final long[] setKeys = new long[SETS];
    private int nextSet;
    private static final int FAST_IDX = IDX << 2;
    /** Accesses that took the hart's full path (diagnostics and tests: the fast path must carry the rest). */
    long slowAccesses;

    JitMem(Hart h) {
        this.h = h;
        this.tag = EngineSupport.tlbTag(h);
        this.page = EngineSupport.tlbPage(h);
        this.flags = EngineSupport.tlbFlags(h);
        this.code = EngineSupport.ram(h).codeStates();
        this.ramBase = EngineSupport.ram(h).base();
        this.host = EngineSupport.ram(h).segment().address() - EngineSupport.ram(h).base();
        for (long[] set : sets) {
            java.util.Arrays.fill(set, -1L);
        }
        java.util.Arrays.fill(setKeys, -1L);
        EngineSupport.setJitTlb(h, sets);
        fast = sets[0];
        refresh();
    }

    /**
     * Re-takes the checks when the hart's MMU epoch moved (privilege, satp, SUM, MXR, MPRV: every change goes
     * through {@code Hart.mmuModeChanged}); one compare in the common case. The dispatcher calls it before every
     * region it enters (a trap or xRET between regions moves the epoch too), regions after every stepped
     * instruction; a chained region needs no check (it follows a normal exit of a region that already did).
     */
    void revalidate() {
        if (EngineSupport.mmuEpoch(h) != epoch) {
            refresh();
        }
    }

    /** Takes the hart's current fast-path permission checks (see the class comment). */
    void refresh() {
        epoch = EngineSupport.mmuEpoch(h);
        loadMask = EngineSupport.jitLoadMask(h);
        loadMatch = EngineSupport.jitLoadMatch(h);
        storeMask = EngineSupport.jitStoreMask(h);
        storeMatch = EngineSupport.jitStoreMatch(h);
        // The masks are at most 9 bits and a match is either 9 bits or -1: 16 bits each keep them apart.
        long key = (long) loadMask << 48 | (long) (loadMatch & 0xffff) << 32 | (long) (storeMask & 0xffff) << 16
                | (storeMatch & 0xffff);
        int cur = -1;
        for (int s = 0; s < SETS; s++) {
            if (setKeys[s] == key) {
                cur = s;
                break;
            }
        }
        if (cur < 0) {
            cur = nextSet;
            nextSet = (nextSet + 1) % SETS;
            java.util.Arrays.fill(sets[cur], -1L);
            setKeys[cur] = key;
        }
        fast = sets[cur];
    }

    /** Enters the entry of {@code va} (which just passed the hart TLB check for a load or store) in the folded TLB. */
    private void fill(long va, boolean store) {
        int i = (int) (va >>> 12) & IDX;
        long base = va & ~0xfffL;
        long[] f = fast;
        int k = i << 2;
        if (f[k] != base && f[k + 1] != base) {
            // Neither tag is live for this page (a live tag always belongs to the hart's current entry i): take it.
            f[k] = -1;
            f[k + 1] = -1;
            f[k + 2] = page[i] + host - base;
            f[k + 3] = (page[i] - ramBase) >>> 12;
        }
        f[k + (store ? 1 : 0)] = base;
    }

    /** {@link #loadAddress}, entering the page in the folded TLB when the access may take the fast path. */
    private long filledLoadAddress(long va, int size) {
        long a = loadAddress(va, size);
        if (a >= 0) {
            fill(va, false);
        }
        return a;
    }

    /** {@link #storeAddress}, entering the page in the folded TLB when the access may take the fast path. */
    private long filledStoreAddress(long va, int size) {
        long a = storeAddress(va, size);
        if (a >= 0) {
            fill(va, true);
        }
        return a;
    }

    /** Host address of {@code va} when a load of {@code size} bytes may take the fast path, else -1. */
    private long loadAddress(long va, int size) {
        long vpn = va >>> 12;
        int i = (int) vpn & IDX;
        if (tag[i] == vpn && (flags[i] & loadMask) == loadMatch && ((int) va & 0xfff) <= 0x1000 - size) {
            return page[i] + (va & 0xfff) + host;
        }
        return -1;
    }

    /** Host address of {@code va} when a store of {@code size} bytes may take the fast path, else -1. */
    private long storeAddress(long va, int size) {
        long vpn = va >>> 12;
        int i = (int) vpn & IDX;
        if (tag[i] == vpn && (flags[i] & storeMask) == storeMatch && ((int) va & 0xfff) <= 0x1000 - size) {
            long pa = page[i];
            if ((code[(int) ((pa - ramBase) >>> 12)] & 1) == 0) {
                return pa + (va & 0xfff) + host;
            }
        }
        return -1;
    }

    /** {@code -Ddomus.jit.stats=true}: also count why accesses left the fast path (costs only on that path). */
    private static final boolean STATS = Boolean.getBoolean("domus.jit.stats");
    /**
     * Slow accesses by cause: 0 TLB miss, 1 permission or A/D (or the full path forced: dirty log, no translation),
     * 2 not plain RAM (MMIO), 3 page crossing, 4 store to a code page.
     */
    final long[] slowCauses = new long[5];

    private JitMem slowStore(long va, int size) {
        slowAccesses++;
        if (STATS) {
            classify(va, size, storeMask, storeMatch);
        }
        return this;
    }

    private JitMem slowLoad(long va, int size) {
        slowAccesses++;
        if (STATS) {
            classify(va, size, loadMask, loadMatch);
        }
        return this;
    }

    private void classify(long va, int size, int mask, int match) {
        long vpn = va >>> 12;
        int i = (int) vpn & IDX;
        int cause = tag[i] != vpn ? 0 : (flags[i] & mask) != match ? ((flags[i] & EngineSupport.TLB_RAM_FLAG) == 0 ? 2 : 1)
                : ((int) va & 0xfff) > 0x1000 - size ? 3 : 4;
        slowCauses[cause]++;
    }

    private long lbFull(long va) { return EngineSupport.lb(h, va); }

    private long lbuFull(long va) { return EngineSupport.lbu(h, va); }

    private long lhFull(long va) { return EngineSupport.lh(h, va); }

    private long lhuFull(long va) { return EngineSupport.lhu(h, va); }

    private long lwFull(long va) { return EngineSupport.lw(h, va); }

    private long lwuFull(long va) { return EngineSupport.lwu(h, va); }

    private long ldFull(long va) { return EngineSupport.ld(h, va); }

    private void sbFull(long va, long v) { EngineSupport.sb(h, va, v); }

    private void shFull(long va, long v) { EngineSupport.sh(h, va, v); }

    private void swFull(long va, long v) { EngineSupport.sw(h, va, v); }

    private void sdFull(long va, long v) { EngineSupport.sd(h, va, v); }

    static long lb(JitMem m, long va) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        return f[k] == (va & ~0xfffL) ? ALL.get(B, f[k + 2] + va) : m.lbMiss(va);
    }

    private long lbMiss(long va) {
        long a = filledLoadAddress(va, 1);
        return a >= 0 ? ALL.get(B, a) : slowLoad(va, 1).lbFull(va);
    }

    static long lbu(JitMem m, long va) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        return f[k] == (va & ~0xfffL) ? (ALL.get(B, f[k + 2] + va) & 0xffL) : m.lbuMiss(va);
    }

    private long lbuMiss(long va) {
        long a = filledLoadAddress(va, 1);
        return a >= 0 ? ALL.get(B, a) & 0xffL : slowLoad(va, 1).lbuFull(va);
    }

    static long lh(JitMem m, long va) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        return f[k] == (va & ~0xffeL) ? ALL.get(S, f[k + 2] + va) : m.lhMiss(va);
    }

    private long lhMiss(long va) {
        long a = filledLoadAddress(va, 2);
        return a >= 0 ? ALL.get(S, a) : slowLoad(va, 2).lhFull(va);
    }

    static long lhu(JitMem m, long va) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        return f[k] == (va & ~0xffeL) ? (ALL.get(S, f[k + 2] + va) & 0xffffL) : m.lhuMiss(va);
    }

    private long lhuMiss(long va) {
        long a = filledLoadAddress(va, 2);
        return a >= 0 ? ALL.get(S, a) & 0xffffL : slowLoad(va, 2).lhuFull(va);
    }

    static long lw(JitMem m, long va) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        return f[k] == (va & ~0xffcL) ? ALL.get(I, f[k + 2] + va) : m.lwMiss(va);
    }

    private long lwMiss(long va) {
        long a = filledLoadAddress(va, 4);
        return a >= 0 ? ALL.get(I, a) : slowLoad(va, 4).lwFull(va);
    }

    static long lwu(JitMem m, long va) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        return f[k] == (va & ~0xffcL) ? (ALL.get(I, f[k + 2] + va) & 0xffffffffL) : m.lwuMiss(va);
    }

    private long lwuMiss(long va) {
        long a = filledLoadAddress(va, 4);
        return a >= 0 ? ALL.get(I, a) & 0xffffffffL : slowLoad(va, 4).lwuFull(va);
    }

    static long ld(JitMem m, long va) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        return f[k] == (va & ~0xff8L) ? ALL.get(L, f[k + 2] + va) : m.ldMiss(va);
    }

    private long ldMiss(long va) {
        long a = filledLoadAddress(va, 8);
        return a >= 0 ? ALL.get(L, a) : slowLoad(va, 8).ldFull(va);
    }

    static void sb(JitMem m, long va, long v) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        if (f[k + 1] == (va & ~0xfffL) && (m.code[(int) f[k + 3]] & 1) == 0) {
            ALL.set(B, f[k + 2] + va, (byte) v);
        } else {
            m.sbMiss(va, v);
        }
    }

    private void sbMiss(long va, long v) {
        long a = filledStoreAddress(va, 1);
        if (a >= 0) {
            ALL.set(B, a, (byte) v);
        } else {
            slowStore(va, 1).sbFull(va, v);
        }
    }

    static void sh(JitMem m, long va, long v) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        if (f[k + 1] == (va & ~0xffeL) && (m.code[(int) f[k + 3]] & 1) == 0) {
            ALL.set(S, f[k + 2] + va, (short) v);
        } else {
            m.shMiss(va, v);
        }
    }

    private void shMiss(long va, long v) {
        long a = filledStoreAddress(va, 2);
        if (a >= 0) {
            ALL.set(S, a, (short) v);
        } else {
            slowStore(va, 2).shFull(va, v);
        }
    }

    static void sw(JitMem m, long va, long v) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        if (f[k + 1] == (va & ~0xffcL) && (m.code[(int) f[k + 3]] & 1) == 0) {
            ALL.set(I, f[k + 2] + va, (int) v);
        } else {
            m.swMiss(va, v);
        }
    }

    private void swMiss(long va, long v) {
        long a = filledStoreAddress(va, 4);
        if (a >= 0) {
            ALL.set(I, a, (int) v);
        } else {
            slowStore(va, 4).swFull(va, v);
        }
    }

    static void sd(JitMem m, long va, long v) {
        long[] f = m.fast;
        int k = ((int) va >>> 10) & FAST_IDX;
        if (f[k + 1] == (va & ~0xff8L) && (m.code[(int) f[k + 3]] & 1) == 0) {
            ALL.set(L, f[k + 2] + va, v);
        } else {
            m.sdMiss(va, v);
        }
    }

    private void sdMiss(long va, long v) {
        long a = filledStoreAddress(va, 8);
        if (a >= 0) {
            ALL.set(L, a, v);
        } else {
            slowStore(va, 8).sdFull(va, v);
        }
    }
}
