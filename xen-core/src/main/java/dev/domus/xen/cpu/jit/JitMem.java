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
 * samples in the load/store paths). Each method here is one access size: a TLB tag compare, the permission check
 * of the current mode (which includes "the page is plain RAM"), a page-crossing check and one segment access; a
 * store also requires the page to hold no translated or decoded code. The fallback ({@code EngineSupport.lw} and
 * so on: table walk, A/D bits, faults, MMIO, crossing, code-page generation, dirty log) is a call on the cold
 * branch. The methods are too big for C1 to inline (C1 would expand the segment access machinery at every site
 * and run out of virtual registers on big regions) and small enough for C2 to inline at every hot site.
 *
 * <p>One instance per hart, created by its engine; {@link #refresh} takes the hart's current permission checks at
 * region entry and after every instruction a region hands to the interpreter (a CSR write may change the
 * privilege, SUM, MXR, MPRV or satp; a satp write or sfence.vma empties the TLB arrays in place). Dirty logging
 * or untranslated data accesses make the checks an impossible pair, so then every access takes the full path.
 */
final class JitMem {
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final int IDX = EngineSupport.TLB_INDEX_MASK;

    final Hart h;
    private final long[] tag;
    private final long[] page;
    private final int[] flags;
    private final int[] code;
    private final MemorySegment seg;
    private final long base;
    private int loadMask;
    private int loadMatch;
    private int storeMask;
    private int storeMatch;
    /** Accesses that took the hart's full path (diagnostics and tests: the fast path must carry the rest). */
    long slowAccesses;

    JitMem(Hart h) {
        this.h = h;
        this.tag = EngineSupport.tlbTag(h);
        this.page = EngineSupport.tlbPage(h);
        this.flags = EngineSupport.tlbFlags(h);
        this.code = EngineSupport.ram(h).codeStates();
        this.seg = EngineSupport.ram(h).segment();
        this.base = EngineSupport.ram(h).base();
        refresh();
    }

    /** Takes the hart's current fast-path permission checks (see the class comment). */
    void refresh() {
        loadMask = EngineSupport.jitLoadMask(h);
        loadMatch = EngineSupport.jitLoadMatch(h);
        storeMask = EngineSupport.jitStoreMask(h);
        storeMatch = EngineSupport.jitStoreMatch(h);
    }

    /** RAM offset of {@code va} when a load of {@code size} bytes may take the fast path, else -1. */
    private long loadOffset(long va, int size) {
        long vpn = va >>> 12;
        int i = (int) vpn & IDX;
        if (tag[i] == vpn && (flags[i] & loadMask) == loadMatch && ((int) va & 0xfff) <= 0x1000 - size) {
            return page[i] + (va & 0xfff) - base;
        }
        return -1;
    }

    /** RAM offset of {@code va} when a store of {@code size} bytes may take the fast path, else -1. */
    private long storeOffset(long va, int size) {
        long vpn = va >>> 12;
        int i = (int) vpn & IDX;
        if (tag[i] == vpn && (flags[i] & storeMask) == storeMatch && ((int) va & 0xfff) <= 0x1000 - size) {
            long off = page[i] + (va & 0xfff) - base;
            if ((code[(int) (off >>> 12)] & 1) == 0) {
                return off;
            }
        }
        return -1;
    }

    private static JitMem slow(JitMem m) {
        m.slowAccesses++;
        return m;
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
        long off = m.loadOffset(va, 1);
        return off >= 0 ? m.seg.get(B, off) : slow(m).lbFull(va);
    }

    static long lbu(JitMem m, long va) {
        long off = m.loadOffset(va, 1);
        return off >= 0 ? m.seg.get(B, off) & 0xffL : slow(m).lbuFull(va);
    }

    static long lh(JitMem m, long va) {
        long off = m.loadOffset(va, 2);
        return off >= 0 ? m.seg.get(S, off) : slow(m).lhFull(va);
    }

    static long lhu(JitMem m, long va) {
        long off = m.loadOffset(va, 2);
        return off >= 0 ? m.seg.get(S, off) & 0xffffL : slow(m).lhuFull(va);
    }

    static long lw(JitMem m, long va) {
        long off = m.loadOffset(va, 4);
        return off >= 0 ? m.seg.get(I, off) : slow(m).lwFull(va);
    }

    static long lwu(JitMem m, long va) {
        long off = m.loadOffset(va, 4);
        return off >= 0 ? m.seg.get(I, off) & 0xffffffffL : slow(m).lwuFull(va);
    }

    static long ld(JitMem m, long va) {
        long off = m.loadOffset(va, 8);
        return off >= 0 ? m.seg.get(L, off) : slow(m).ldFull(va);
    }

    static void sb(JitMem m, long va, long v) {
        long off = m.storeOffset(va, 1);
        if (off >= 0) {
            m.seg.set(B, off, (byte) v);
        } else {
            slow(m).sbFull(va, v);
        }
    }

    static void sh(JitMem m, long va, long v) {
        long off = m.storeOffset(va, 2);
        if (off >= 0) {
            m.seg.set(S, off, (short) v);
        } else {
            slow(m).shFull(va, v);
        }
    }

    static void sw(JitMem m, long va, long v) {
        long off = m.storeOffset(va, 4);
        if (off >= 0) {
            m.seg.set(I, off, (int) v);
        } else {
            slow(m).swFull(va, v);
        }
    }

    static void sd(JitMem m, long va, long v) {
        long off = m.storeOffset(va, 8);
        if (off >= 0) {
            m.seg.set(L, off, v);
        } else {
            slow(m).sdFull(va, v);
        }
    }
}
