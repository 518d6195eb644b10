// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleRingTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }

    @Test
    void keepsEverythingUntilFull() {
        ConsoleRing r = new ConsoleRing(8);
        assertThat(r.snapshot()).isEmpty();
        r.write(b("abc"), 0, 3);
        r.write(b("xdex"), 1, 2);
        assertThat(s(r.snapshot())).isEqualTo("abcde");
    }

    @Test
    void wrapsAroundKeepingTheNewestBytes() {
        ConsoleRing r = new ConsoleRing(8);
        r.write(b("012345"), 0, 6);
        r.write(b("6789"), 0, 4);
        assertThat(s(r.snapshot())).isEqualTo("23456789");
        r.write(b("AB"), 0, 2);
        assertThat(s(r.snapshot())).isEqualTo("456789AB");
        assertThat(r.total()).isEqualTo(12);
    }

    @Test
    void aWriteLargerThanTheRingKeepsItsTail() {
        ConsoleRing r = new ConsoleRing(4);
        r.write(b("x"), 0, 1);
        r.write(b("abcdefghij"), 0, 10);
        assertThat(s(r.snapshot())).isEqualTo("ghij");
        r.write(b("k"), 0, 1);
        assertThat(s(r.snapshot())).isEqualTo("hijk");
    }

    @Test
    void defaultCapacityIs64KiB() {
        ConsoleRing r = new ConsoleRing(ConsoleRing.DEFAULT_CAPACITY);
        byte[] big = new byte[100_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        r.write(big, 0, big.length);
        byte[] snap = r.snapshot();
        assertThat(snap).hasSize(65536);
        assertThat(snap[0]).isEqualTo(big[100_000 - 65536]);
        assertThat(snap[65535]).isEqualTo(big[99_999]);
    }
}
