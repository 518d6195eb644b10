// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * Time-ordered UUIDs (version 7, RFC 9562): ordering by id is creation order, which makes keyset pagination by id
 * stable and cheap.
 */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static long lastMillis;
    private static long seq;

    private Ids() {
    }

    public static UUID next() {
        long millis;
        long s;
        synchronized (Ids.class) {
            millis = System.currentTimeMillis();
            if (millis <= lastMillis) {
                millis = lastMillis;
                seq++;
                if (seq > 0xFFF) {
                    // 4096 ids in one millisecond: borrow the next one so ids stay increasing.
                    millis = ++lastMillis;
                    seq = 0;
                }
            } else {
                lastMillis = millis;
                seq = 0;
            }
            s = seq;
        }
        long msb = (millis << 16) | 0x7000L | s;
        long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }
}
