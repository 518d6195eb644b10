// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.testing;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * Builds and reads the Ethernet frames network tests exchange with a real kernel: ARP request/reply, IPv4 ICMP echo,
 * and a test-only frame type (IEEE local experimental ethertype 0x88b5) carrying a sequence number. Frames are
 * heap {@link ByteBuffer}s in network byte order, position 0, limit = frame length.
 */
public final class Frames {
    public static final int ETHERTYPE_IPV4 = 0x0800;
    public static final int ETHERTYPE_ARP = 0x0806;
    public static final int ETHERTYPE_TEST = 0x88b5;
    public static final int ETH_HEADER = 14;

    private Frames() {
    }

    /** "52:54:00:12:34:56" to 6 bytes. */
    public static byte[] mac(String text) {
        byte[] b = HexFormat.ofDelimiter(":").parseHex(text);
        if (b.length != 6) {
            throw new IllegalArgumentException("MAC must have 6 bytes: " + text);
        }
        return b;
    }

    /** "10.0.0.1" to 4 bytes. */
    public static byte[] ipv4(String text) {
        String[] parts = text.split("\\.");
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) Integer.parseInt(parts[i]);
        }
        return b;
    }

    /** Broadcast ARP who-has {@code targetIp}, asked by {@code senderMac}/{@code senderIp}. */
    public static ByteBuffer arpRequest(byte[] senderMac, byte[] senderIp, byte[] targetIp) {
        return arp(1, mac("ff:ff:ff:ff:ff:ff"), senderMac, senderIp, new byte[6], targetIp);
    }

    /** ARP reply: {@code senderIp} is at {@code senderMac}, to {@code targetMac}/{@code targetIp}. */
    public static ByteBuffer arpReply(byte[] senderMac, byte[] senderIp, byte[] targetMac, byte[] targetIp) {
        return arp(2, targetMac, senderMac, senderIp, targetMac, targetIp);
    }

    private static ByteBuffer arp(int op, byte[] ethDst, byte[] sha, byte[] spa, byte[] tha, byte[] tpa) {
        ByteBuffer b = ByteBuffer.allocate(ETH_HEADER + 28);
        b.put(ethDst).put(sha).putShort((short) ETHERTYPE_ARP);
        b.putShort((short) 1).putShort((short) ETHERTYPE_IPV4).put((byte) 6).put((byte) 4).putShort((short) op);
        b.put(sha).put(spa).put(tha).put(tpa);
        return b.flip();
    }

    /** IPv4 ICMP echo request with a correct IP header checksum and ICMP checksum. */
    public static ByteBuffer icmpEchoRequest(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp, int id, int seq,
            byte[] payload) {
        int icmpLen = 8 + payload.length;
        int ipLen = 20 + icmpLen;
        ByteBuffer b = ByteBuffer.allocate(ETH_HEADER + ipLen);
        b.put(dstMac).put(srcMac).putShort((short) ETHERTYPE_IPV4);
        int ip = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) ipLen).putShort((short) 0x1234).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(srcIp).put(dstIp);
        b.putShort(ip + 10, (short) checksum(b, ip, 20));
        int icmp = b.position();
        b.put((byte) 8).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) seq).put(payload);
        b.putShort(icmp + 2, (short) checksum(b, icmp, icmpLen));
        return b.flip();
    }

    /** A test frame of {@code length} bytes (>= 22) carrying {@code seq}; the rest is a pattern derived from it. */
    public static ByteBuffer testFrame(byte[] srcMac, byte[] dstMac, long seq, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        writeTestFrame(b, srcMac, dstMac, seq, length);
        return b.flip();
    }

    /** Writes a test frame into {@code b} from its position (for allocation-free loops); {@code b} is not flipped. */
    public static void writeTestFrame(ByteBuffer b, byte[] srcMac, byte[] dstMac, long seq, int length) {
        if (length < ETH_HEADER + 8) {
            throw new IllegalArgumentException("test frame needs >= 22 bytes, got " + length);
        }
        b.put(dstMac).put(srcMac).putShort((short) ETHERTYPE_TEST).putLong(seq);
        for (int i = ETH_HEADER + 8; i < length; i++) {
            b.put((byte) (seq + i));
        }
    }

    /** The sequence number of a test frame at {@code b}'s position..limit, or -1 if it is another kind of frame. */
    public static long testSeq(ByteBuffer b) {
        int p = b.position();
        if (b.remaining() < ETH_HEADER + 8 || ethertype(b) != ETHERTYPE_TEST) {
            return -1;
        }
        long seq = b.getLong(p + ETH_HEADER);
        for (int i = ETH_HEADER + 8; i < b.remaining(); i++) {
            if (b.get(p + i) != (byte) (seq + i)) {
                return -1;
            }
        }
        return seq;
    }

    /** Ethertype of the frame at {@code b}'s position. */
    public static int ethertype(ByteBuffer b) {
        return b.getShort(b.position() + 12) & 0xffff;
    }

    /** The Internet checksum (RFC 1071) of {@code len} bytes from absolute {@code off}. */
    public static int checksum(ByteBuffer b, int off, int len) {
        long sum = 0;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            sum += b.getShort(off + i) & 0xffff;
        }
        if (i < len) {
            sum += (b.get(off + i) & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /** Bytes {@code off..off+len} of the frame at position 0 of {@code b}, for assertions. */
    public static byte[] bytes(ByteBuffer b, int off, int len) {
        byte[] out = new byte[len];
        b.get(b.position() + off, out);
        return out;
    }
}
