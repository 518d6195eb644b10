// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import dev.domus.xen.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * One available buffer: the flattened, validated descriptor chain (indirect tables expanded). Readable segments
 * come first, then writable ones; every segment lies inside guest RAM (checked while walking), so device models
 * can copy without further address checks. One instance per queue is reused for every request.
 */
public final class DescriptorChain {
    private final GuestMemory ram;
    private int head;
    private int count;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;
    private long[] offsets = new long[16];
    private int[] lengths = new int[16];

    DescriptorChain(GuestMemory ram) {
        this.ram = ram;
    }

    void reset(int headIndex) {
        head = headIndex;
        count = 0;
        readableCount = 0;
        readableBytes = 0;
        writableBytes = 0;
    }

    /** Appends a segment (RAM offset, length); readable segments must precede writable ones (checked by caller). */
    void add(long ramOffset, int length, boolean writable) {
        if (count == offsets.length) {
            int n = count * 2;
            offsets = java.util.Arrays.copyOf(offsets, n);
            lengths = java.util.Arrays.copyOf(lengths, n);
        }
        offsets[count] = ramOffset;
        lengths[count] = length;
        count++;
        if (writable) {
            writableBytes += Integer.toUnsignedLong(length);
        } else {
            readableCount++;
            readableBytes += Integer.toUnsignedLong(length);
        }
    }

    /** Head descriptor index: the id reported in the used ring. */
    public int head() { return head; }

    /** Total bytes the device may read. */
    public long readableBytes() { return readableBytes; }

    /** Total bytes the device may write. */
    public long writableBytes() { return writableBytes; }

    /** Number of segments (readable first). */
    public int segments() { return count; }

    /** Number of readable segments; segments {@code readableSegments()..segments()-1} are writable. */
    public int readableSegments() { return readableCount; }

    /** RAM offset of segment {@code i}. */
    public long offset(int i) { return offsets[i]; }

    /** Length of segment {@code i} in bytes (unsigned, at most 2^32-1). */
    public long length(int i) { return Integer.toUnsignedLong(lengths[i]); }

    /** Guest RAM, for {@link GuestMemory#deviceWrote} after writing through {@link #buffer}. */
    public GuestMemory memory() { return ram; }

    /** A view of {@code len} bytes of segment {@code i} starting {@code from} bytes in (for file and socket I/O). */
    public ByteBuffer buffer(int i, long from, int len) {
        return ram.segment().asSlice(offsets[i] + from, len).asByteBuffer();
    }

    /**
     * Copies up to {@code len} readable bytes starting at position {@code pos} of the readable stream into
     * {@code dst}; returns how many were copied (fewer at the end of the stream).
     */
    public int read(long pos, byte[] dst, int dstOff, int len) {
        int done = 0;
        long skip = pos;
        for (int i = 0; i < readableCount && done < len; i++) {
            long l = length(i);
            if (skip >= l) {
                skip -= l;
                continue;
            }
            int n = (int) Math.min(l - skip, len - done);
            MemorySegment.copy(ram.segment(), ValueLayout.JAVA_BYTE, offsets[i] + skip, dst, dstOff + done, n);
            done += n;
            skip = 0;
        }
        return done;
    }

    /**
     * Copies {@code len} bytes of {@code src} into the writable stream at position {@code pos}; returns how many
     * fit. Marks the pages dirty.
     */
    public int write(long pos, byte[] src, int srcOff, int len) {
        int done = 0;
        long skip = pos;
        for (int i = readableCount; i < count && done < len; i++) {
            long l = length(i);
            if (skip >= l) {
                skip -= l;
                continue;
            }
            int n = (int) Math.min(l - skip, len - done);
            MemorySegment.copy(src, srcOff + done, ram.segment(), ValueLayout.JAVA_BYTE, offsets[i] + skip, n);
            ram.deviceWrote(offsets[i] + skip, n);
            done += n;
            skip = 0;
        }
        return done;
    }

    /** Writes one byte at position {@code pos} of the writable stream (a status byte); false when out of range. */
    public boolean writeByte(long pos, byte value) {
        long skip = pos;
        for (int i = readableCount; i < count; i++) {
            long l = length(i);
            if (skip < l) {
                ram.segment().set(ValueLayout.JAVA_BYTE, offsets[i] + skip, value);
                ram.deviceWrote(offsets[i] + skip, 1);
                return true;
            }
            skip -= l;
        }
        return false;
    }
}
