// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class OffloadTest {
    /** An Ethernet + IPv4 + TCP frame (no options) with {@code payload} bytes, flags PSH|ACK|FIN, seq 1000. */
    static byte[] tcpFrame(int payload) {
        byte[] f = new byte[14 + 20 + 20 + payload];
        f[12] = 0x08;
        f[14] = 0x45;
        Offload.put16(f, 16, 40 + payload);
        Offload.put16(f, 18, 0x1234);
        f[22] = 64;
        f[23] = 6;
        f[26] = 10; f[27] = 0; f[28] = 0; f[29] = 2;
        f[30] = 10; f[31] = 0; f[32] = 0; f[33] = 1;
        Offload.put16(f, 34, 40000);
        Offload.put16(f, 36, 5001);
        Offload.put32(f, 38, 1000);
        f[46] = 0x50;
        f[47] = 0x19;
        for (int i = 0; i < payload; i++) {
            f[54 + i] = (byte) i;
        }
        return f;
    }

    private static boolean ipChecksumOk(byte[] s) {
        return Offload.fold(Offload.sum(s, 14, 20, 0)) == 0xffff;
    }

    private static boolean tcpChecksumOk(byte[] s, int len) {
        int tcpLen = len - 34;
        long sum = Offload.sum(s, 26, 8, 0) + 6 + tcpLen;
        return Offload.fold(Offload.sum(s, 34, tcpLen, sum)) == 0xffff;
    }

    @Test
    void tsoCutsASuperFrameIntoValidSegments() {
        byte[] f = tcpFrame(4000);
        List<byte[]> segs = new ArrayList<>();
        int n = Offload.segmentTcp4(f, 0, f.length, 1448, 1518, new byte[1518],
                (b, l) -> segs.add(Arrays.copyOf(b, l)));
        assertThat(n).isEqualTo(3);
        int off = 0;
        for (int i = 0; i < 3; i++) {
            byte[] s = segs.get(i);
            int chunk = Math.min(1448, 4000 - off);
            assertThat(s).hasSize(54 + chunk);
            assertThat(Offload.u16(s, 16)).as("IP total length").isEqualTo(40 + chunk);
            assertThat(Offload.u16(s, 18)).as("IP id").isEqualTo(0x1234 + i);
            assertThat(ipChecksumOk(s)).isTrue();
            assertThat(tcpChecksumOk(s, s.length)).isTrue();
            assertThat(Offload.u32(s, 38)).as("seq").isEqualTo(1000 + off);
            assertThat(s[47] & 0x09).as("FIN/PSH only last").isEqualTo(i == 2 ? 0x09 : 0);
            assertThat(s[54]).isEqualTo((byte) off);
            off += chunk;
        }
    }

    @Test
    void tsoRefusesWhatDoesNotParse() {
        byte[] f = tcpFrame(100);
        byte[] seg = new byte[1518];
        assertThat(Offload.segmentTcp4(f, 0, 30, 1448, 1518, seg, (b, l) -> { })).isEqualTo(-1);
        f[23] = 17; // UDP
        assertThat(Offload.segmentTcp4(f, 0, f.length, 1448, 1518, seg, (b, l) -> { })).isEqualTo(-1);
        f[23] = 6;
        f[46] = (byte) 0xf0; // TCP header longer than the frame
        assertThat(Offload.segmentTcp4(f, 0, f.length, 1448, 1518, seg, (b, l) -> { })).isEqualTo(-1);
        f[46] = 0x50;
        assertThat(Offload.segmentTcp4(f, 0, f.length, 9000, 1518, seg, (b, l) -> { })).isEqualTo(-1);
        assertThat(Offload.segmentTcp4(f, 0, f.length, 0, 1518, seg, (b, l) -> { })).isEqualTo(-1);
    }

    @Test
    void partialChecksumIsCompletedAndBadOffsetsRefused() {
        byte[] f = tcpFrame(333);
        int tcpLen = f.length - 34;
        // Seed the field with the pseudo-header sum, as Linux does for CHECKSUM_PARTIAL.
        Offload.put16(f, 50, Offload.fold(Offload.sum(f, 26, 8, 0) + 6 + tcpLen));
        assertThat(Offload.completeChecksum(f, 0, f.length, 34, 16)).isTrue();
        assertThat(tcpChecksumOk(f, f.length)).isTrue();
        assertThat(Offload.completeChecksum(f, 0, f.length, 34, f.length)).isFalse();
        assertThat(Offload.completeChecksum(f, 0, f.length, 5, 0)).isFalse();
        assertThat(Offload.completeChecksum(f, 0, f.length, 0xffff, 0)).isFalse();
    }
}
