// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.blk;

import dev.domus.xen.devices.virtio.transport.DescriptorChain;
import dev.domus.xen.devices.virtio.transport.VirtioContext;
import dev.domus.xen.devices.virtio.transport.VirtioDevice;
import dev.domus.xen.devices.virtio.transport.Virtqueue;
import dev.domus.xen.devices.virtio.transport.VirtqueueException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * virtio-blk (device ID 2) over a raw image file. One request queue; each request is validated (header length,
 * status byte, sector range, 512-byte multiples, read-only disks) and a bad one fails with {@code IOERR} rather
 * than resetting the device. FLUSH is {@code fsync}; DISCARD and WRITE_ZEROES punch holes so sparse images stay
 * sparse. The image is locked (exclusive for read-write, shared for read-only) so two domains cannot write one disk.
 *
 * <p>Live migration of a shared read-write disk (same file on both sides) hands the lock over: the target opens the
 * image without it ({@link #deferLock}), the source flushes and lets go when it pauses ({@link #releaseLock}), and
 * the target takes it after COMMIT, before its vCPUs run ({@link #acquireLock}). A device without its lock serves
 * no request until it got the lock back, so there are never two writers.
 */
public final class BlkDevice implements VirtioDevice {
    private static final Logger LOG = Logger.getLogger(BlkDevice.class.getName());

    static final int SECTOR = 512;
    static final int T_IN = 0;
    static final int T_OUT = 1;
    static final int T_FLUSH = 4;
    static final int T_GET_ID = 8;
    static final int T_DISCARD = 11;
    static final int T_WRITE_ZEROES = 13;
    static final byte S_OK = 0;
    static final byte S_IOERR = 1;
    static final byte S_UNSUPP = 2;

    static final int F_SIZE_MAX = 1;
    static final int F_SEG_MAX = 2;
    static final int F_RO = 5;
    static final int F_BLK_SIZE = 6;
    static final int F_FLUSH = 9;
    static final int F_DISCARD = 13;
    static final int F_WRITE_ZEROES = 14;

    static final int QUEUE_SIZE = 256;
    /** Data segments per request (leaves room for header and status in a queue-sized chain). */
    static final int SEG_MAX = QUEUE_SIZE - 2;
    static final int SIZE_MAX = 1 << 20;
    /** Largest discard / write-zeroes range per segment, in sectors (1 GiB). */
    static final int MAX_DISCARD_SECTORS = 1 << 21;
    static final int MAX_DISCARD_SEG = 16;
    private static final int ID_BYTES = 20;
    private static final int ZERO_CHUNK = 64 * 1024;

    private final String name;
    private final Path image;
    private final boolean readOnly;
    private final FileChannel channel;
    /** Image lock; null while handed over (see the class comment). Guarded by {@code this}. */
    private FileLock lock;
    private final Optional<Fallocate> holes;
    private final long sectors;
    private final byte[] config;
    private final byte[] serial;
    private final byte[] header = new byte[16];
    private final byte[] discardSeg = new byte[16];
    private final BlockWriteLog writes;
    private VirtioContext ctx;

    private BlkDevice(String name, Path image, boolean readOnly, FileChannel channel, FileLock lock, long sectors) {
        this.name = name;
        this.image = image;
        this.readOnly = readOnly;
        this.channel = channel;
        this.lock = lock;
        this.sectors = sectors;
        this.holes = readOnly ? Optional.empty() : Fallocate.open(image);
        this.serial = ("domus-" + name).getBytes(StandardCharsets.US_ASCII);
        this.config = buildConfig();
        this.writes = new BlockWriteLog(sectors * SECTOR);
    }

    /** Images whose next read-write {@link #open} leaves the lock to {@link #acquireLock} (incoming migration). */
    private static final java.util.Set<Path> DEFERRED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * The next read-write {@link #open} of {@code image} in this process opens it without its lock: an incoming
     * migration's shared disk, which the source still holds until it pauses. The device then serves no request
     * until {@link #acquireLock} succeeded.
     */
    public static void deferLock(Path image) {
        DEFERRED.add(image.toAbsolutePath().normalize());
    }

    /**
     * Opens {@code image} as disk {@code name} (e.g. "vda").
     *
     * @throws IOException with a message naming the file when it is missing, not a regular file, or locked by
     *                     another domain
     */
    public static BlkDevice open(String name, Path image, boolean readOnly) throws IOException {
        FileChannel ch = readOnly ? FileChannel.open(image, StandardOpenOption.READ)
                : FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock l = null;
        if (readOnly || !DEFERRED.remove(image.toAbsolutePath().normalize())) {
            l = tryLock(ch, readOnly);
            if (l == null) {
                ch.close();
                throw new IOException("disk image " + image + " is in use by another domain");
            }
        }
        long size = ch.size();
        return new BlkDevice(name, image, readOnly, ch, l, size / SECTOR);
    }

    private static FileLock tryLock(FileChannel ch, boolean shared) throws IOException {
        try {
            return ch.tryLock(0, Long.MAX_VALUE, shared);
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    /** Writes everything the guest wrote back to the image ({@code fsync}); read-only disks have nothing to write. */
    public void writeBack() throws IOException {
        if (!readOnly) {
            channel.force(true);
        }
    }

    /** True while this device holds its image's lock. */
    public synchronized boolean locked() {
        return lock != null;
    }

    /**
     * Migration source, at the pause: writes everything back ({@code fsync}) and releases the image lock, so the
     * target can take it after COMMIT. Requests made before {@link #acquireLock} are refused. No-op without the
     * lock.
     */
    public synchronized void releaseLock() throws IOException {
        if (lock == null) {
            return;
        }
        if (!readOnly) {
            channel.force(true);
        }
        lock.release();
        lock = null;
        LOG.info(() -> "event=blk-lock-released disk=" + name + " image=" + image);
    }

    /**
     * Takes the image lock (migration target after COMMIT, or a source that resumes), retrying for up to
     * {@code timeoutMillis} while another process holds it.
     *
     * @throws IOException naming the image when the lock is still held by someone else
     */
    public synchronized void acquireLock(long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (lock == null) {
            lock = tryLock(channel, readOnly);
            if (lock != null) {
                break;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("disk image " + image + " is still locked by another process after "
                        + timeoutMillis + " ms");
            }
            try {
                wait(1); // the holder releases within a round trip during a hand-over
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the lock of " + image);
            }
        }
        LOG.info(() -> "event=blk-lock-acquired disk=" + name + " image=" + image);
    }

    /** For a request: the lock is held, or can be taken right now (a source resumed after an in-doubt hand-over). */
    private synchronized boolean haveLock() {
        if (lock == null) {
            try {
                lock = tryLock(channel, readOnly);
            } catch (IOException e) {
                return false;
            }
        }
        return lock != null;
    }

    private byte[] buildConfig() {
        ByteBuffer b = ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, sectors);
        b.putInt(8, SIZE_MAX);
        b.putInt(12, SEG_MAX);
        b.putInt(20, SECTOR);                  // blk_size
        b.putInt(36, MAX_DISCARD_SECTORS);     // max_discard_sectors
        b.putInt(40, MAX_DISCARD_SEG);         // max_discard_seg
        b.putInt(44, 8);                       // discard_sector_alignment: 4 KiB
        b.putInt(48, MAX_DISCARD_SECTORS);     // max_write_zeroes_sectors
        b.putInt(52, MAX_DISCARD_SEG);         // max_write_zeroes_seg
        b.put(56, (byte) 1);                   // write_zeroes_may_unmap
        return b.array();
    }

    @Override
    public int deviceId() {
        return 2;
    }

    @Override
    public long deviceFeatures() {
        long f = (1L << F_SIZE_MAX) | (1L << F_SEG_MAX) | (1L << F_BLK_SIZE) | (1L << F_FLUSH);
        if (readOnly) {
            f |= 1L << F_RO;
        } else {
            f |= (1L << F_DISCARD) | (1L << F_WRITE_ZEROES);
        }
        return f;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize() {
        return QUEUE_SIZE;
    }

    @Override
    public long readConfig(int offset, int width) {
        if (offset < 0 || offset + width > config.length) {
            return 0;
        }
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = (v << 8) | (config[offset + i] & 0xff);
        }
        return v;
    }

    @Override
    public void activate(VirtioContext context) {
        this.ctx = context;
    }

    @Override
    public void queueNotify(int queue) {
        Virtqueue q = ctx.queue(queue);
        DescriptorChain c;
        while ((c = q.pop()) != null) {
            long written = handle(c);
            q.push(c, written);
        }
        q.notifyDriver();
    }

    /** Serves one request; returns the number of bytes written into the chain (data + status). */
    long handle(DescriptorChain c) {
        long w = c.writableBytes();
        if (w < 1) {
            throw new VirtqueueException(name + ": request without a status byte");
        }
        long statusPos = w - 1;
        if (c.readableBytes() < 16 || c.read(0, header, 0, 16) != 16) {
            c.writeByte(statusPos, S_IOERR);
            return 1;
        }
        int type = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16 | (header[3] & 0xff) << 24;
        long sectorBits = 0;
        for (int i = 15; i >= 8; i--) {
            sectorBits = (sectorBits << 8) | (header[i] & 0xff);
        }
        final long sector = sectorBits;
        long data = 0;
        byte status;
        if (!haveLock()) {
            // Handed over and not back: another process may be writing this image now.
            LOG.warning(() -> "event=blk-request-without-lock disk=" + name + " image=" + image + " type=" + type);
            c.writeByte(statusPos, S_IOERR);
            return 1;
        }
        try {
            switch (type) {
                case T_IN -> {
                    long len = statusPos;
                    status = rangeOk(sector, len) ? S_OK : S_IOERR;
                    if (status == S_OK) {
                        readInto(c, sector * SECTOR, len);
                        data = len;
                    }
                }
                case T_OUT -> {
                    long len = c.readableBytes() - 16;
                    status = readOnly || !rangeOk(sector, len) ? S_IOERR : S_OK;
                    if (status == S_OK) {
                        writeFrom(c, sector * SECTOR, len);
                    }
                }
                case T_FLUSH -> {
                    if (!readOnly) {
                        channel.force(true);
                    }
                    status = S_OK;
                }
                case T_GET_ID -> {
                    byte[] id = new byte[ID_BYTES];
                    System.arraycopy(serial, 0, id, 0, Math.min(serial.length, ID_BYTES));
                    int n = (int) Math.min(ID_BYTES, statusPos);
                    data = c.write(0, id, 0, n);
                    status = S_OK;
                }
                case T_DISCARD, T_WRITE_ZEROES -> status = readOnly ? S_IOERR : discard(c);
                default -> status = S_UNSUPP;
            }
        } catch (IOException e) {
            LOG.warning(() -> "event=blk-io-error disk=" + name + " image=" + image + " type=" + type + " sector="
                    + Long.toUnsignedString(sector) + " error=\"" + e.getMessage() + "\"");
            status = S_IOERR;
            data = 0;
        }
        c.writeByte(statusPos, status);
        return data + 1;
    }

    private boolean rangeOk(long sector, long len) {
        if (len < 0 || len % SECTOR != 0) {
            return false;
        }
        long n = len / SECTOR;
        return Long.compareUnsigned(sector, sectors) <= 0 && n <= sectors - sector;
    }

    /**
     * Reads {@code len} bytes at file position {@code pos} into the writable segments (before the status byte) with
     * one scattering read (readv): a 1 MiB request is 256 guest pages, one system call instead of 256. The
     * channel position is safe to use: requests are serialised by the transport lock.
     */
    private void readInto(DescriptorChain c, long pos, long len) throws IOException {
        ByteBuffer[] bufs = new ByteBuffer[c.segments() - c.readableSegments()];
        int nb = 0;
        long left = len;
        for (int i = c.readableSegments(); i < c.segments() && left > 0; i++) {
            int n = (int) Math.min(c.length(i), left);
            bufs[nb++] = c.buffer(i, 0, n);
            left -= n;
        }
        channel.position(pos);
        long done = 0;
        while (done < len) {
            long r = channel.read(bufs, 0, nb);
            if (r < 0) {
                // Past the end of a file that shrank underneath us: zeros, like a hole.
                for (int k = 0; k < nb; k++) {
                    while (bufs[k].hasRemaining()) {
                        bufs[k].put((byte) 0);
                    }
                }
                break;
            }
            done += r;
        }
        left = len;
        for (int i = c.readableSegments(); i < c.segments() && left > 0; i++) {
            long n = Math.min(c.length(i), left);
            c.memory().deviceWrote(c.offset(i), n);
            left -= n;
        }
    }

    /**
     * Writes {@code len} bytes from the readable segments after the 16-byte header to file position {@code pos},
     * with one gathering write (writev) per pass.
     */
    private void writeFrom(DescriptorChain c, long pos, long len) throws IOException {
        ByteBuffer[] bufs = new ByteBuffer[c.readableSegments()];
        int nb = 0;
        long skip = 16;
        long left = len;
        for (int i = 0; i < c.readableSegments() && left > 0; i++) {
            long l = c.length(i);
            if (skip >= l) {
                skip -= l;
                continue;
            }
            int n = (int) Math.min(l - skip, left);
            bufs[nb++] = c.buffer(i, skip, n);
            skip = 0;
            left -= n;
        }
        channel.position(pos);
        long done = 0;
        while (done < len) {
            done += channel.write(bufs, 0, nb);
        }
        writes.mark(pos, len);
    }

    private byte discard(DescriptorChain c) throws IOException {
        long payload = c.readableBytes() - 16;
        if (payload <= 0 || payload % 16 != 0 || payload / 16 > MAX_DISCARD_SEG) {
            return S_IOERR;
        }
        for (long p = 16; p < c.readableBytes(); p += 16) {
            c.read(p, discardSeg, 0, 16);
            long sector = 0;
            for (int i = 7; i >= 0; i--) {
                sector = (sector << 8) | (discardSeg[i] & 0xff);
            }
            long num = Integer.toUnsignedLong((discardSeg[8] & 0xff) | (discardSeg[9] & 0xff) << 8
                    | (discardSeg[10] & 0xff) << 16 | (discardSeg[11] & 0xff) << 24);
            int flags = discardSeg[12] | discardSeg[13] | discardSeg[14] | discardSeg[15];
            if (num > MAX_DISCARD_SECTORS || !rangeOk(sector, num * SECTOR) || (flags & ~1) != 0) {
                return S_IOERR;
            }
            zero(sector * SECTOR, num * SECTOR);
            writes.mark(sector * SECTOR, num * SECTOR);
        }
        return S_OK;
    }

    private void zero(long pos, long len) throws IOException {
        if (len == 0) {
            return;
        }
        if (holes.isPresent() && holes.get().punchHole(pos, len)) {
            return;
        }
        ByteBuffer z = ByteBuffer.allocate((int) Math.min(len, ZERO_CHUNK));
        for (long done = 0; done < len; ) {
            z.clear().limit((int) Math.min(z.capacity(), len - done));
            done += channel.write(z, pos + done);
        }
    }

    @Override
    public void reset() {
        ctx = null;
    }

    @Override
    public String name() {
        return "blk-" + name;
    }

    /** The guest-visible name ({@code vda}, ...). */
    public String target() {
        return name;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** Blocks the guest wrote since logging was switched on (disk mirroring). */
    public BlockWriteLog writeLog() {
        return writes;
    }

    /**
     * Reads image bytes at {@code pos} into {@code dst} without touching the request path's file position (a
     * positional read may run on another thread while the guest does I/O); a short image reads as zeros.
     */
    public void readImage(ByteBuffer dst, long pos) throws IOException {
        while (dst.hasRemaining()) {
            int r = channel.read(dst, pos);
            if (r < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            pos += r;
        }
    }

    /** Capacity in sectors. */
    public long sectors() {
        return sectors;
    }

    public BlkState state() {
        return new BlkState(image.toString(), readOnly, sectors, new String(serial, StandardCharsets.US_ASCII));
    }

    /** Flushes and releases the image (machine teardown). */
    @Override
    public void close() {
        try {
            if (!readOnly) {
                channel.force(true);
            }
            synchronized (this) {
                if (lock != null) {
                    lock.release();
                    lock = null;
                }
            }
        } catch (IOException e) {
            LOG.warning(() -> "event=blk-close-error disk=" + name + " error=\"" + e.getMessage() + "\"");
        } finally {
            holes.ifPresent(Fallocate::close);
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a file channel only fails if it is already broken; nothing to do
            }
        }
    }
}
