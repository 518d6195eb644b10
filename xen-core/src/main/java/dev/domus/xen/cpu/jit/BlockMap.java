// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

/**
 * Open-addressing hash map from guest-physical address to {@link Entry}, linear probing, power-of-two capacity,
 * kept at most half full. Owned by one vCPU thread (the background compiler only writes {@link Entry#ready});
 * never removes single keys (stale entries are reused in place, and {@link #clear()} drops everything when the map
 * grows past its limit).
 */
final class BlockMap {
    /** One region entry point: execution count while cold, then the translation and the page state it is valid for. */
    static final class Entry {
        final long pa;
        int hits;
        /** Code state of the page ({@code GuestMemory.codeState}) when translated, or when found untranslatable. */
        int pageState;
        /** The translation, or null while cold or when the region's first instruction is left to the interpreter. */
        CompiledBlock block;
        int length;
        boolean interpretOnly;
        /**
         * The entry the dispatcher went to after this one last time (a successor link, checked against
         * {@link #succPa}): only a lookup shortcut, every check of the entry itself still applies.
         */
        Entry succ;
        long succPa = -1;
        /** Handed to the {@link BackgroundCompiler}; the result arrives in {@link #ready}. */
        boolean queued;
        /** Written by the compiler thread, taken (and cleared) by the vCPU thread on its next visit. */
        volatile BackgroundCompiler.Ready ready;

        Entry(long pa) {
            this.pa = pa;
        }
    }

    private long[] keys;
    private Entry[] values;
    private int size;
    private final int limit;

    BlockMap(int initialCapacity, int limit) {
        keys = new long[initialCapacity];
        values = new Entry[initialCapacity];
        this.limit = limit;
    }

    int size() { return size; }

    /** The entry for {@code pa}, created cold on first sight. */
    Entry get(long pa) {
        int mask = keys.length - 1;
        int i = hash(pa) & mask;
        while (true) {
            Entry e = values[i];
            if (e == null) {
                break;
            }
            if (keys[i] == pa) {
                return e;
            }
            i = (i + 1) & mask;
        }
        if (size >= limit) {
            clear();
            return get(pa);
        }
        if (2 * (size + 1) > keys.length) {
            grow();
            return get(pa);
        }
        Entry e = new Entry(pa);
        keys[i] = pa;
        values[i] = e;
        size++;
        return e;
    }

    /** Sum of {@link CompiledBlock#chained} over the translations in the map (diagnostics). */
    long chainedRuns() {
        long sum = 0;
        for (Entry e : values) {
            if (e != null && e.block != null) {
                sum += e.block.chained;
            }
        }
        return sum;
    }

    void clear() {
        java.util.Arrays.fill(values, null);
        size = 0;
    }

    private void grow() {
        long[] oldKeys = keys;
        Entry[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new Entry[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldValues[j] != null) {
                int i = hash(oldKeys[j]) & mask;
                while (values[i] != null) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    private static int hash(long pa) {
        // Instruction addresses are 2-byte aligned and clustered: mix before masking.
        long h = (pa >>> 1) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32);
    }
}
