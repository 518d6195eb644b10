// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

/**
 * The transmit offloads virtio-net offers the guest, done in the device because the tap carries plain frames:
 * completing a partial checksum ({@code VIRTIO_NET_F_CSUM}) and cutting a TCP/IPv4 super-frame into MSS-sized
 * frames ({@code VIRTIO_NET_F_HOST_TSO4}). The guest's TCP stack then works on 64 KiB chunks and never computes a
 * checksum, which is where an emulated CPU spends its time. Every offset comes from the guest and is checked
 * against the frame; a frame that does not parse is refused (dropped by the caller).
 */
final class Offload {
    static final int ETH_HLEN = 14;

    private Offload() {
    }

    /** Ones-complement sum of {@code b[off, off+len)} added to {@code sum} (not folded). */
    static long sum(byte[] b, int off, int len, long sum) {
        int i = off;
        int end = off + len;
        for (; i + 1 < end; i += 2) {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        if (i < end) {
            sum += (b[i] & 0xff) << 8;
        }
        return sum;
    }

    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    /**
     * NEEDS_CSUM: the guest seeded the checksum field (pseudo-header sum) and left the rest to us: the checksum of
     * {@code frame[start, len)} goes to {@code start + offset}. False when the offsets do not fit the frame.
     */
    static boolean completeChecksum(byte[] frame, int base, int len, int start, int offset) {
        if (start < ETH_HLEN || start >= len || offset > len - start - 2) {
            return false;
        }
        int at = base + start + offset;
        int c = ~fold(sum(frame, base + start, len - start, 0)) & 0xffff;
        frame[at] = (byte) (c >>> 8);
        frame[at + 1] = (byte) c;
        return true;
    }

    /** Receives one segment produced by {@link #segmentTcp4}. */
    interface SegmentSink {
        void accept(byte[] buf, int len);
    }

    /**
     * TSO for TCP over IPv4 (untagged Ethernet): splits {@code frame[base, base+len)} into segments of at most
     * {@code mss} payload bytes, each with its own IP length, id and header checksum, TCP sequence number, flags
     * (FIN/PSH on the last, CWR on the first) and full TCP checksum. Returns the number of segments, or -1 when the
     * frame is not a TCP/IPv4 frame with sane headers or a segment would exceed {@code maxFrame}.
     */
    static int segmentTcp4(byte[] frame, int base, int len, int mss, int maxFrame, byte[] seg, SegmentSink out) {
        if (len < ETH_HLEN + 20 + 20 || mss < 1) {
            return -1;
        }
        if ((frame[base + 12] & 0xff) != 0x08 || frame[base + 13] != 0x00) {
            return -1;
        }
        int ip = base + ETH_HLEN;
        int ihl = (frame[ip] & 0x0f) * 4;
        if ((frame[ip] & 0xf0) != 0x40 || ihl < 20 || frame[ip + 9] != 6) {
            return -1;
        }
        int tcp = ip + ihl;
        if (tcp + 20 > base + len) {
            return -1;
        }
        int thl = ((frame[tcp + 12] & 0xff) >>> 4) * 4;
        int hdrEnd = tcp + thl;
        if (thl < 20 || hdrEnd > base + len) {
            return -1;
        }
        int hdrLen = hdrEnd - base;
        int payload = base + len - hdrEnd;
        if (hdrLen + Math.min(mss, Math.max(payload, 1)) > maxFrame || hdrLen + mss > seg.length) {
            return -1;
        }
        int id0 = u16(frame, ip + 4);
        long seq0 = u32(frame, tcp + 4);
        int flags0 = frame[tcp + 13] & 0xff;
        int count = 0;
        int off = 0;
        do {
            int chunk = Math.min(mss, payload - off);
            boolean first = off == 0;
            boolean last = off + chunk >= payload;
            System.arraycopy(frame, base, seg, 0, hdrLen);
            System.arraycopy(frame, hdrEnd + off, seg, hdrLen, chunk);
            int sip = ETH_HLEN;
            int stcp = sip + ihl;
            put16(seg, sip + 2, ihl + thl + chunk);
            put16(seg, sip + 4, (id0 + count) & 0xffff);
            put16(seg, sip + 10, 0);
            put16(seg, sip + 10, ~fold(sum(seg, sip, ihl, 0)) & 0xffff);
            put32(seg, stcp + 4, (seq0 + off) & 0xffff_ffffL);
            int fl = flags0;
            if (!last) {
                fl &= ~0x09; // FIN, PSH only on the last segment
            }
            if (!first) {
                fl &= ~0x80; // CWR only on the first
            }
            seg[stcp + 13] = (byte) fl;
            put16(seg, stcp + 16, 0);
            int tcpLen = thl + chunk;
            long s = sum(seg, sip + 12, 8, 0) + 6 + tcpLen; // pseudo header: addresses, protocol, length
            s = sum(seg, stcp, tcpLen, s);
            put16(seg, stcp + 16, ~fold(s) & 0xffff);
            out.accept(seg, hdrLen + chunk);
            count++;
            off += chunk;
        } while (off < payload);
        return count;
    }

    static int u16(byte[] b, int i) {
        return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
    }

    static long u32(byte[] b, int i) {
        return ((long) u16(b, i) << 16) | u16(b, i + 2);
    }

    static void put16(byte[] b, int i, int v) {
        b[i] = (byte) (v >>> 8);
        b[i + 1] = (byte) v;
    }

    static void put32(byte[] b, int i, long v) {
        put16(b, i, (int) (v >>> 16) & 0xffff);
        put16(b, i + 2, (int) v & 0xffff);
    }
}
