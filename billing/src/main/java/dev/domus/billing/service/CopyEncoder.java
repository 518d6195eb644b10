// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * Writes rows in PostgreSQL's binary {@code COPY} format into one growing byte array: the server stores uuids,
 * bigints and timestamps as sent instead of parsing their text forms, and the client allocates nothing per field.
 * One encoder per batch; not thread-safe.
 */
final class CopyEncoder {
    private static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0,
        0, 0, 0, 0, 0, 0, 0, 0};
    /** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix seconds. */
    private static final long PG_EPOCH_SECONDS = 946_684_800L;

    private byte[] buf;
    private int len;

    CopyEncoder(int expectedBytes) {
        buf = new byte[Math.max(64, expectedBytes)];
        System.arraycopy(HEADER, 0, buf, 0, HEADER.length);
        len = HEADER.length;
    }

    void row(int fields) {
        ensure(2);
        putShort(fields);
    }

    void uuid(UUID u) {
        ensure(20);
        putInt(16);
        putLong(u.getMostSignificantBits());
        putLong(u.getLeastSignificantBits());
    }

    void bigint(long v) {
        ensure(12);
        putInt(8);
        putLong(v);
    }

    void timestamptz(Instant t) {
        ensure(12);
        putInt(8);
        putLong(Math.addExact(Math.multiplyExact(t.getEpochSecond() - PG_EPOCH_SECONDS, 1_000_000L),
                t.getNano() / 1000));
    }

    /** A text field, or SQL NULL for {@code null} (the one place a null means something: the wire's NULL). */
    void text(String s) {
        if (s == null) {
            ensure(4);
            putInt(-1);
            return;
        }
        int n = s.length();
        ensure(4 + n);
        int at = len;
        len += 4;
        for (int i = 0; i < n; i++) {
            char ch = s.charAt(i);
            if (ch >= 0x80) {
                // Rare (plan names are ASCII): fall back to the full UTF-8 encoder for this field.
                len = at;
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                ensure(4 + utf8.length);
                putInt(utf8.length);
                System.arraycopy(utf8, 0, buf, len, utf8.length);
                len += utf8.length;
                return;
            }
            buf[len++] = (byte) ch;
        }
        int save = len;
        len = at;
        putInt(n);
        len = save;
    }

    /** Appends the trailer; the result is {@link #bytes()}[0, {@link #length()}). */
    void finish() {
        ensure(2);
        putShort(-1);
    }

    byte[] bytes() {
        return buf;
    }

    int length() {
        return len;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }

    private void putShort(int v) {
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }

    private void putInt(int v) {
        buf[len++] = (byte) (v >>> 24);
        buf[len++] = (byte) (v >>> 16);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }

    private void putLong(long v) {
        putInt((int) (v >>> 32));
        putInt((int) v);
    }
}
