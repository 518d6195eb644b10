// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;

/**
 * Empties the young generation on purpose right before a migration's pause. Runners use the serial collector with
 * a small heap: a young collection comes every few hundred milliseconds while a migration allocates (frames, the
 * codec warm-ups, the domain build) and stops every thread for 2-25 ms on a loaded host (58 and 100 ms seen,
 * {@code -Xlog:gc,safepoint}); one that falls inside the downtime was the p99 of the benchmark. Collected just
 * before, eden is empty, and the few KiB the pause allocates cannot trigger another.
 */
final class Collector {
    private static final int CHUNK = 64 * 1024;
    /** Allocation bound when the eden size cannot be read. */
    private static final long FALLBACK_LIMIT = 64L << 20;
    /** Keeps the filler reachable until the next one replaces it, so the JIT cannot drop the allocation. */
    private static volatile byte[] sink;
    /**
     * Looked up once, on first use of this class: the management beans' first lookup loads and initialises a few
     * hundred classes (~100 ms on a quiet box, 0.4 s seen under load), so {@link #warm} runs it early.
     */
    private static final List<GarbageCollectorMXBean> GCS = ManagementFactory.getGarbageCollectorMXBeans();
    private static final List<MemoryPoolMXBean> EDEN = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP && p.getName().contains("Eden")).toList();

    private Collector() {
    }

    /** Loads the management beans (see {@link #GCS}); call well before {@link #collectYoung}. */
    static void warm() {
        collections(GCS);
        edenLimit();
    }

    /**
     * Unless at least half of eden is free, allocates short-lived filler until one collection happened (bounded by
     * twice the eden size); returns the nanoseconds it took. The filler is garbage at once: nothing is promoted.
     */
    static long collectYoung() {
        long t0 = System.nanoTime();
        if (edenHalfFree()) {
            // The pause allocates a few hundred KiB at most (state codec, frames): no collection can come of it.
            return System.nanoTime() - t0;
        }
        List<GarbageCollectorMXBean> gcs = GCS;
        long before = collections(gcs);
        long limit = edenLimit();
        for (long allocated = 0; allocated < limit; allocated += CHUNK) {
            sink = new byte[CHUNK];
            if ((allocated & ((1 << 20) - 1)) == 0 && collections(gcs) != before) {
                break;
            }
        }
        sink = null;
        return System.nanoTime() - t0;
    }

    private static long collections(List<GarbageCollectorMXBean> gcs) {
        long n = 0;
        for (GarbageCollectorMXBean g : gcs) {
            n += Math.max(0, g.getCollectionCount());
        }
        return n;
    }

    /** True when at least half of the committed eden is free (false when that cannot be read). */
    private static boolean edenHalfFree() {
        for (MemoryPoolMXBean p : EDEN) {
            java.lang.management.MemoryUsage u = p.getUsage();
            if (u.getCommitted() > 0) {
                return u.getUsed() * 2 <= u.getCommitted();
            }
        }
        return false;
    }

    /** Twice the committed eden (what it takes to fill it from any occupancy), else {@link #FALLBACK_LIMIT}. */
    private static long edenLimit() {
        for (MemoryPoolMXBean p : EDEN) {
            long committed = p.getUsage().getCommitted();
            if (committed > 0) {
                return 2 * committed + CHUNK;
            }
        }
        return FALLBACK_LIMIT;
    }
}
