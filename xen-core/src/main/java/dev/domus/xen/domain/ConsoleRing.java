// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

/** The most recent console output (a fixed-size ring), replayed to each client that attaches. Not thread-safe. */
final class ConsoleRing {
    static final int DEFAULT_CAPACITY = 64 * 1024;

    private final byte[] buf;
    private long total;

    ConsoleRing(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.buf = new byte[capacity];
    }

    void write(byte[] data, int off, int len) {
        if (len >= buf.length) {
            // Only the tail survives anyway.
            off += len - buf.length;
            len = buf.length;
        }
        int at = (int) (total % buf.length);
        int first = Math.min(len, buf.length - at);
        System.arraycopy(data, off, buf, at, first);
        System.arraycopy(data, off + first, buf, 0, len - first);
        total += len;
    }

    /** The retained bytes, oldest first. */
    byte[] snapshot() {
        int size = (int) Math.min(total, buf.length);
        byte[] out = new byte[size];
        int start = (int) ((total - size) % buf.length);
        int first = Math.min(size, buf.length - start);
        System.arraycopy(buf, start, out, 0, first);
        System.arraycopy(buf, 0, out, first, size - first);
        return out;
    }

    /** Bytes written since creation, including those that were overwritten. */
    long total() {
        return total;
    }
}
