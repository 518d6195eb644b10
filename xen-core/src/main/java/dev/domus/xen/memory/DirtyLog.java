// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.memory;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-4 KiB-page dirty bitmap of guest RAM, used by live migration and checkpoints.
 *
 * <p>When logging is off, {@link #mark(long)} costs one volatile-free field read and a branch. When on, a page's
 * bit is set atomically so that concurrent vCPU and device writers are never lost, and {@link #fetchAndClear}
 * hands out and resets the bits word by word.
 */
public final class DirtyLog {
    private final AtomicLongArray bits;
    private final long pages;
    /**
     * Plain (not volatile) so the per-store check stays cheap; callers switch logging on or off while the vCPUs are
     * paused, and the pause/resume handshake publishes the new value to them.
     */
    private boolean enabled;

    DirtyLog(long pages) {
        this.pages = pages;
        this.bits = new AtomicLongArray((int) ((pages + 63) >>> 6));
    }

    public long pages() { return pages; }

    public boolean enabled() { return enabled; }

    /** Turns logging on (every page starts clean) or off. */
    public void setEnabled(boolean on) {
        if (on) {
            for (int i = 0; i < bits.length(); i++) {
                bits.set(i, 0);
            }
        }
        enabled = on;
    }

    /** Marks the page holding RAM offset {@code off}. */
    public void mark(long off) {
        if (enabled) {
            long page = off >>> GuestMemory.PAGE_SHIFT;
            int word = (int) (page >>> 6);
            long bit = 1L << (page & 63);
            if ((bits.get(word) & bit) == 0) {
                // A CAS loop rather than getAndUpdate: no capturing lambda allocated on the store path.
                long w;
                do {
                    w = bits.get(word);
                } while ((w & bit) == 0 && !bits.weakCompareAndSetVolatile(word, w, w | bit));
            }
        }
    }

    /** Marks every page touched by [off, off+len). */
    public void markRange(long off, long len) {
        if (enabled && len > 0) {
            for (long p = off >>> GuestMemory.PAGE_SHIFT; p <= (off + len - 1) >>> GuestMemory.PAGE_SHIFT; p++) {
                mark(p << GuestMemory.PAGE_SHIFT);
            }
        }
    }

    /** Returns and clears 64 pages' bits starting at page {@code wordIndex * 64}. */
    public long fetchAndClear(int wordIndex) {
        return bits.getAndSet(wordIndex, 0);
    }

    /**
     * Moves the first {@code into.length} words of the log into {@code into} (each cleared as it is read, as
     * {@link #fetchAndClear}); returns how many pages were dirty.
     */
    public long fetchAndClearAll(long[] into) {
        long n = 0;
        for (int w = 0; w < into.length; w++) {
            into[w] = bits.getAndSet(w, 0);
            n += Long.bitCount(into[w]);
        }
        return n;
    }

    public int words() { return bits.length(); }
}
