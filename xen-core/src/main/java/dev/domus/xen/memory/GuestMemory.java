// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Guest RAM: one off-heap {@link MemorySegment} mapped at a guest-physical base address.
 *
 * <p>All accessors take an <em>offset</em> into RAM (guest-physical address minus {@link #base()}); callers check
 * {@link #containsRange(long, long)} first. Accesses are little-endian and may be unaligned. The {@code *Atomic}
 * methods require natural alignment and are atomic across vCPU threads (LR/SC, AMOs, page-table A/D updates).
 */
public final class GuestMemory implements AutoCloseable {
    /** Page granularity of dirty logging and snapshots. */
    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;

    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final VarHandle INT_ATOMIC = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG_ATOMIC = ValueLayout.JAVA_LONG.varHandle();

    private final Arena arena;
    private final MemorySegment ram;
    private final long base;
    private final long size;
    private final DirtyLog dirtyLog;
    /**
     * Per page: bit 0 = a translating CPU engine holds code translated from this page; bits 1.. = a generation
     * bumped by every write to such a page. A store checks only bit 0 of its page (one array load), so RAM without
     * translations pays almost nothing; translations compare the whole word to detect that they went stale.
     */
    private final int[] codePages;

    private GuestMemory(long base, long size) {
        this.arena = Arena.ofShared();
        this.ram = AnonymousMemory.map(size, arena);
        this.base = base;
        this.size = size;
        this.dirtyLog = new DirtyLog(size >>> PAGE_SHIFT);
        this.codePages = new int[(int) (size >>> PAGE_SHIFT)];
    }

    /**
     * Allocates zeroed guest RAM.
     *
     * @param base guest-physical base address, page aligned
     * @param size size in bytes, a positive multiple of the page size
     */
    public static GuestMemory allocate(long base, long size) {
        if ((base & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("RAM base must be page aligned, got 0x" + Long.toHexString(base));
        }
        if (size <= 0 || (size & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("RAM size must be a positive multiple of 4 KiB, got " + size);
        }
        return new GuestMemory(base, size);
    }

    public long base() { return base; }

    public long size() { return size; }

    /**
     * The raw segment, for bulk copies (image loading, snapshots, virtio buffers). Writers that bypass the store
     * methods must call {@link #deviceWrote(long, long)} so translated code from those pages is dropped.
     */
    public MemorySegment segment() { return ram; }

    public DirtyLog dirtyLog() { return dirtyLog; }

    /**
     * The one hook for "something other than a vCPU store wrote [off, off+len)": every write into RAM through
     * {@link #segment()} (virtio DMA, image loading) must end here so the dirty log (migration) sees it and code
     * a translating CPU engine compiled from those pages is invalidated.
     */
    public void deviceWrote(long off, long len) {
        if (len > 0) {
            dirtyLog.markRange(off, len);
            watchRange(off, len);
        }
    }

    /** True when guest-physical range [paddr, paddr+len) lies entirely in RAM. Overflow-safe. */
    public boolean containsRange(long paddr, long len) {
        long off = paddr - base;
        return len >= 0 && off >= 0 && off <= size && len <= size - off;
    }

    public byte loadByte(long off) { return ram.get(B, off); }
    public short loadShort(long off) { return ram.get(S, off); }
    public int loadInt(long off) { return ram.get(I, off); }
    public long loadLong(long off) { return ram.get(L, off); }

    public void storeByte(long off, byte v) {
        ram.set(B, off, v);
        dirtyLog.mark(off);
        watchWrite(off, off);
    }

    public void storeShort(long off, short v) {
        ram.set(S, off, v);
        dirtyLog.mark(off);
        dirtyLog.mark(off + 1);
        watchWrite(off, off + 1);
    }

    public void storeInt(long off, int v) {
        ram.set(I, off, v);
        dirtyLog.mark(off);
        dirtyLog.mark(off + 3);
        watchWrite(off, off + 3);
    }

    public void storeLong(long off, long v) {
        ram.set(L, off, v);
        dirtyLog.mark(off);
        dirtyLog.mark(off + 7);
        watchWrite(off, off + 7);
    }

    // ---- code pages (self-modifying code and page reuse under a translating engine) ----

    /**
     * Declares that code is about to be translated from the page holding {@code off} and returns the page's code
     * state; a translation stays valid while {@link #codeState(long)} returns that same value. Called before the
     * code bytes are read, with a full fence, so a concurrent writer either sees the flag or the reader sees the
     * new bytes.
     */
    public int watchCode(long off) {
        int p = (int) (off >>> PAGE_SHIFT);
        codePages[p] |= 1;
        VarHandle.fullFence();
        return codePages[p];
    }

    /**
     * The per-page code states themselves, for a CPU engine's inlined store path: a store to a page whose state
     * has bit 0 set must go through the store methods above. Read only.
     */
    public int[] codeStates() {
        return codePages;
    }

    /** The code state of page {@code page} (see {@link #watchCode(long)}). */
    public int codeState(int page) {
        return codePages[page];
    }

    private void watchWrite(long first, long last) {
        int p = (int) (first >>> PAGE_SHIFT);
        if ((codePages[p] & 1) != 0) {
            codeWritten(p);
        }
        int q = (int) (last >>> PAGE_SHIFT);
        if (q != p && q < codePages.length && (codePages[q] & 1) != 0) {
            codeWritten(q);
        }
    }

    private void codeWritten(int page) {
        // Clear the flag and move to a new generation: every translation of this page is now stale.
        codePages[page] = (codePages[page] + 2) & ~1;
    }

    private void watchRange(long off, long len) {
        if (len > 0) {
            for (long p = off >>> PAGE_SHIFT; p <= (off + len - 1) >>> PAGE_SHIFT && p < codePages.length; p++) {
                if ((codePages[(int) p] & 1) != 0) {
                    codeWritten((int) p);
                }
            }
        }
    }

    /** Atomic 32-bit compare-and-exchange at an aligned offset; returns the witness value. */
    public int compareAndExchangeInt(long off, int expected, int value) {
        int w = (int) INT_ATOMIC.compareAndExchange(ram, off, expected, value);
        if (w == expected) {
            dirtyLog.mark(off);
            watchWrite(off, off);
        }
        return w;
    }

    /** Atomic 64-bit compare-and-exchange at an aligned offset; returns the witness value. */
    public long compareAndExchangeLong(long off, long expected, long value) {
        long w = (long) LONG_ATOMIC.compareAndExchange(ram, off, expected, value);
        if (w == expected) {
            dirtyLog.mark(off);
            watchWrite(off, off);
        }
        return w;
    }

    /** Volatile (sequentially consistent) reads for atomics. */
    public int loadIntVolatile(long off) { return (int) INT_ATOMIC.getVolatile(ram, off); }
    public long loadLongVolatile(long off) { return (long) LONG_ATOMIC.getVolatile(ram, off); }

    /** Copies bytes from a host array into RAM (loader, devices). Caller checked the range. */
    public void write(long off, byte[] src, int srcOff, int len) {
        MemorySegment.copy(src, srcOff, ram, B, off, len);
        deviceWrote(off, len);
    }

    /** Copies bytes from RAM into a host array. Caller checked the range. */
    public void read(long off, byte[] dst, int dstOff, int len) {
        MemorySegment.copy(ram, B, off, dst, dstOff, len);
    }

    @Override
    public void close() {
        arena.close();
    }
}
