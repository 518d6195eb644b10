// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The framed migration stream: each frame is a type byte, a payload length and the payload, then a CRC32C of type,
 * length and payload. Lengths are checked against {@link #MAX_FRAME} before a buffer is allocated. Received payloads
 * land in one reused buffer (page frames are ~1 MiB: a fresh array each would be a humongous allocation per frame).
 *
 * <p>Version 2 added {@link #PREVIEW} (a device state sent early so both sides run the state codec once before
 * the pause) and {@link #SYNC}/{@link #SYNC_OK} (the target answers after applying every frame before it: the
 * source measures end-to-end bandwidth and never pauses with a backlog in the socket buffers).
 */
final class Stream implements AutoCloseable {
    static final byte[] MAGIC = "DOMUSMIG".getBytes(StandardCharsets.US_ASCII);
    /**
     * 2: READY / COMMIT / DONE hand-over instead of a single ACK, disk mirroring, state preview, round syncs.
     * 3: in the pause STATE comes before the last pages, which end with {@link #FINAL}; an ERROR instead of DONE
     * after COMMIT means the target will not run the guest (the source resumes).
     * 4: {@link #PREPARE} before {@link #PAUSING}: both sides collect their young generation before the pause.
     * Since then (same frames, same order on the wire) the source sends PREVIEW and the full pass's PAGES right
     * after HELLO, without waiting for HELLO_OK (unless it mirrors disks); the target reads in order as before.
     */
    static final int VERSION = 4;
    static final int MAX_FRAME = 8 << 20;

    static final int HELLO = 1;
    static final int HELLO_OK = 2;
    static final int PAGES = 3;
    static final int STATE = 4;
    /** Target to source: the machine is built here, paused, and waits for COMMIT (was ACK in version 1). */
    static final int READY = 5;
    static final int ERROR = 6;
    /** Source to target: the source has let go; the target resumes on reading it (see {@link Handover}). */
    static final int COMMIT = 7;
    /** Target to source: COMMIT was read and the guest runs on the target; the source may end. */
    static final int DONE = 8;
    /** Disk mirroring ({@link DiskMirror}): the disks that follow, their blocks, and the end of the copy. */
    static final int DISK_BEGIN = 9;
    static final int DISK_BLOCK = 10;
    static final int DISK_DONE = 11;
    /** Source to target: the device state taken when logging started, so both sides warm the codec early. */
    static final int PREVIEW = 12;
    /** Source to target after each round (a sequence number); the target answers SYNC_OK once it applied all. */
    static final int SYNC = 13;
    static final int SYNC_OK = 14;
    /**
     * Source to target, version 3: the stop-and-copy is complete. The pause sends {@link #STATE} first and the last
     * pages after it (the target decodes the state while they arrive), then this frame; the target answers READY.
     */
    static final int FINAL = 15;
    /**
     * Source to target, version 3: the next frame is the pause's STATE (the source is stopping its vCPUs); the
     * target spins for it instead of blocking, so the wake-up is not in the downtime.
     */
    static final int PAUSING = 16;
    /**
     * Source to target, version 4: the pause follows. Both sides empty their young generation now
     * ({@link Collector}), so no collection stops either JVM inside the downtime; the target answers
     * {@link #SYNC_OK} with the same payload (a {@code u64} sequence) once it collected and applied all before it.
     */
    static final int PREPARE = 17;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private long bytesOut;
    private byte[] buffer = new byte[64 * 1024];

    Stream(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        // 64 KiB: small frames are gathered, page frames (~1 MiB) are bigger than the buffer and go straight from
        // the frame array to the socket (BufferedOutputStream skips its own copy then).
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    /**
     * A received frame; {@code payload} holds {@code length} valid bytes and is only valid until the next
     * {@link #receive()} (it is the stream's reused buffer).
     */
    record Frame(int type, byte[] payload, int length) {
        /** A copy of the valid bytes, for payloads kept beyond the next receive. */
        byte[] copy() {
            return java.util.Arrays.copyOf(payload, length);
        }

        String text() {
            return new String(payload, 0, length, StandardCharsets.UTF_8);
        }
    }

    void send(int type, byte[] payload) throws IOException {
        send(type, payload, 0, payload.length);
    }

    void send(int type, byte[] payload, int off, int len) throws IOException {
        CRC32C crc = new CRC32C();
        crc.update(type);
        crc.update(len >>> 24);
        crc.update(len >>> 16);
        crc.update(len >>> 8);
        crc.update(len);
        crc.update(payload, off, len);
        out.writeByte(type);
        out.writeInt(len);
        out.write(payload, off, len);
        out.writeInt((int) crc.getValue());
        bytesOut += 9L + len;
    }

    void flush() throws IOException {
        out.flush();
    }

    long bytesOut() {
        return bytesOut;
    }

    /**
     * Waits for the next frame's first byte by spinning (at most {@code spinNanos}, then the caller blocks in
     * {@link #receive()} as usual). For the waits inside the downtime and at round ends, where the answer comes within
     * a round trip: a thread blocked in the socket read needs the scheduler to run it again when the bytes arrive;
     * a spinning one sees them at once. The budgets are short (a round trip plus the peer's work on a quiet host):
     * on an overloaded host the answer comes later anyway, and there a blocked thread is woken sooner than a
     * spinner that used up its time slice (and took the CPU from the peer it waits for) gets the core back.
     * {@code available()} is one non-blocking syscall and never reads, so the frame boundary stays with
     * {@code receive}.
     */
    void awaitReadable(long spinNanos) throws IOException {
        if (spinNanos <= 0 || in.available() > 0) {
            return;
        }
        long until = System.nanoTime() + spinNanos;
        while (in.available() == 0 && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    /** True when the next frame has started to arrive (a non-blocking check; never reads). */
    boolean readable() throws IOException {
        return in.available() > 0;
    }

    /** {@link #awaitReadable(long)} then {@link #receive()}. */
    Frame receive(long spinNanos) throws IOException {
        awaitReadable(spinNanos);
        return receive();
    }

    Frame receive() throws IOException {
        int type;
        try {
            type = in.readUnsignedByte();
        } catch (EOFException e) {
            throw new EOFException("connection closed by the peer");
        }
        int len = in.readInt();
        if (len < 0 || len > MAX_FRAME) {
            throw new IOException("frame length " + len + " is outside 0.." + MAX_FRAME);
        }
        if (buffer.length < len) {
            buffer = new byte[Math.max(len, Math.min(MAX_FRAME, buffer.length * 2))];
        }
        byte[] payload = buffer;
        in.readFully(payload, 0, len);
        int crc = in.readInt();
        CRC32C c = new CRC32C();
        c.update(type);
        c.update(len >>> 24);
        c.update(len >>> 16);
        c.update(len >>> 8);
        c.update(len);
        c.update(payload, 0, len);
        if ((int) c.getValue() != crc) {
            throw new IOException("frame checksum mismatch (type " + type + ", " + len + " bytes)");
        }
        return new Frame(type, payload, len);
    }

    void setTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
