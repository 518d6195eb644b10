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
    /** Told about every write that does not come from a vCPU store (devices, loader); see {@link #deviceWrote}. */
    private volatile WriteObserver writeObserver = WriteObserver.NONE;

    /**
     * Observer of writes into RAM that bypass the vCPU store path (DMA by devices, image loading). A translating
     * CPU engine registers one to drop code it compiled from pages that changed underneath it.
     */
    @FunctionalInterface
    public interface WriteObserver {
        /** RAM offsets [off, off+len) were written. Called on the writing thread; must be cheap and never throw. */
        void written(long off, long len);

        WriteObserver NONE = (off, len) -> { };
    }

    private GuestMemory(long base, long size) {
        this.arena = Arena.ofShared();
        this.ram = AnonymousMemory.map(size, arena);
        this.base = base;
        this.size = size;
        this.dirtyLog = new DirtyLog(size >>> PAGE_SHIFT);
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

    /** The raw segment, for bulk copies (image loading, snapshots, virtio buffers). */
    public MemorySegment segment() { return ram; }

    public DirtyLog dirtyLog() { return dirtyLog; }

    /** Installs the observer of non-vCPU writes ({@link WriteObserver#NONE} to remove it). */
    public void setWriteObserver(WriteObserver observer) {
        this.writeObserver = observer == null ? WriteObserver.NONE : observer;
    }

    /**
     * The one hook for "a device wrote [off, off+len)": every write into RAM that is not a vCPU store (virtio DMA
     * through {@link #segment()}, image loading) must end here so the dirty log (migration) and the CPU engine
     * (cached or compiled code of those pages) see it.
     */
    public void deviceWrote(long off, long len) {
        if (len > 0) {
            dirtyLog.markRange(off, len);
            writeObserver.written(off, len);
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

    public void storeByte(long off, byte v) { ram.set(B, off, v); dirtyLog.mark(off); }
    public void storeShort(long off, short v) { ram.set(S, off, v); dirtyLog.mark(off); dirtyLog.mark(off + 1); }
    public void storeInt(long off, int v) { ram.set(I, off, v); dirtyLog.mark(off); dirtyLog.mark(off + 3); }
    public void storeLong(long off, long v) { ram.set(L, off, v); dirtyLog.mark(off); dirtyLog.mark(off + 7); }

    /** Atomic 32-bit compare-and-exchange at an aligned offset; returns the witness value. */
    public int compareAndExchangeInt(long off, int expected, int value) {
        int w = (int) INT_ATOMIC.compareAndExchange(ram, off, expected, value);
        if (w == expected) {
            dirtyLog.mark(off);
        }
        return w;
    }

    /** Atomic 64-bit compare-and-exchange at an aligned offset; returns the witness value. */
    public long compareAndExchangeLong(long off, long expected, long value) {
        long w = (long) LONG_ATOMIC.compareAndExchange(ram, off, expected, value);
        if (w == expected) {
            dirtyLog.mark(off);
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
