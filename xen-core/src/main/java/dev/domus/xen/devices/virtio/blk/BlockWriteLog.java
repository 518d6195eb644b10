// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.blk;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Which blocks of a disk image the guest wrote (OUT, DISCARD, WRITE_ZEROES) since logging was switched on or since
 * the last {@link #fetchAndClear}: one bit per {@link #BLOCK_SIZE} bytes, for disk mirroring during live
 * migration. Off, a write costs one volatile read. A write marks its blocks <em>after</em> the data reached the
 * image, so a reader that clears a bit and then copies the block either sees the new data or sees the bit again.
 */
public final class BlockWriteLog {
    /** Tracking granularity: 64 KiB (128 sectors) keeps the bitmap of a 1 TiB disk at 2 MiB. */
    public static final int BLOCK_SIZE = 64 * 1024;

    private final long bytes;
    private final AtomicLongArray bits;
    private volatile boolean enabled;

    BlockWriteLog(long bytes) {
        this.bytes = bytes;
        long blocks = (bytes + BLOCK_SIZE - 1) / BLOCK_SIZE;
        this.bits = new AtomicLongArray((int) Math.max(1, (blocks + 63) >>> 6));
    }

    /** Disk size in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Number of blocks (the last one may be short). */
    public long blocks() {
        return (bytes + BLOCK_SIZE - 1) / BLOCK_SIZE;
    }

    /** Number of 64-bit words in the bitmap. */
    public int words() {
        return bits.length();
    }

    public boolean enabled() {
        return enabled;
    }

    /** Switches logging on (every block clean) or off. */
    public void setEnabled(boolean on) {
        if (on) {
            for (int i = 0; i < bits.length(); i++) {
                bits.set(i, 0);
            }
        }
        enabled = on;
    }

    /** Returns the blocks of word {@code w} written since the last call and clears them. */
    public long fetchAndClear(int w) {
        return bits.getAndSet(w, 0);
    }

    /** Records a write of {@code len} bytes at {@code pos} (already on the image); no-op when off. */
    void mark(long pos, long len) {
        if (!enabled || len <= 0 || pos < 0 || pos >= bytes) {
            return;
        }
        long first = pos / BLOCK_SIZE;
        long last = (Math.min(bytes, pos + len) - 1) / BLOCK_SIZE;
        for (long b = first; b <= last; b++) {
            int w = (int) (b >>> 6);
            long bit = 1L << (b & 63);
            if ((bits.get(w) & bit) == 0) {
                bits.getAndAccumulate(w, bit, (a, x) -> a | x);
            }
        }
    }
}
