// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import dev.domus.xen.devices.virtio.blk.BlkDevice;
import dev.domus.xen.devices.virtio.blk.BlockWriteLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * The source side of disk mirroring: copies local disk images to the target while the guest runs, then re-sends
 * the blocks the guest wrote meanwhile ({@link BlockWriteLog}), and the last written blocks while the guest is
 * paused. Disks not named in the mirror set are shared (same path on both hosts) and are not copied.
 *
 * <p>Frames: {@code DISK_BEGIN} (count, then per disk its target name, size and block size) before the RAM phase,
 * {@code DISK_BLOCK} (disk index, block index, then the block's bytes, or nothing for a block of zeros), and
 * {@code DISK_DONE} in the stop-and-copy phase, before the device state. Blocks of zeros are skipped in the bulk
 * copy (the target's file starts sparse) but sent as empty frames when the guest wrote them.
 */
final class DiskMirror {
    /** Re-send rounds before the RAM phase; writes after them are sent in the stop-and-copy phase. */
    static final int MAX_ROUNDS = 8;
    /** Stop the early rounds once this few blocks (4 MiB) are dirty. */
    static final int CONVERGED_BLOCKS = 64;
    private static final int B = BlockWriteLog.BLOCK_SIZE;
    private static final System.Logger LOG = System.getLogger(DiskMirror.class.getName());

    private final List<BlkDevice> disks;
    private final byte[] frame = new byte[9 + B];
    private final ByteBuffer block = ByteBuffer.wrap(frame, 9, B);
    private long blocksSent;
    private long bytesSent;

    private DiskMirror(List<BlkDevice> disks) {
        this.disks = disks;
    }

    /**
     * The mirror for the disks of {@code all} whose targets are in {@code targets} ({@code "all"} = every disk).
     *
     * @throws MigrationException naming a target that the machine does not have
     */
    static DiskMirror of(List<BlkDevice> all, Set<String> targets) {
        Set<String> want = new TreeSet<>(targets);
        boolean every = want.remove("all");
        List<BlkDevice> chosen = new ArrayList<>();
        for (BlkDevice d : all) {
            if (every || want.remove(d.target())) {
                chosen.add(d);
            }
        }
        if (!want.isEmpty()) {
            throw new MigrationException("cannot mirror " + want + ": the domain's disks are "
                    + all.stream().map(BlkDevice::target).toList());
        }
        return new DiskMirror(List.copyOf(chosen));
    }

    /** HELLO_OK flag: the target has a disk directory and accepts mirrored disks. */
    static final int ACCEPTS_DISKS = 1;

    /** The target's HELLO_OK payload: one flags byte. */
    static byte[] helloFlags(boolean acceptsDisks) {
        return new byte[] {(byte) (acceptsDisks ? ACCEPTS_DISKS : 0)};
    }

    /** Fails before anything is copied when the target cannot take mirrored disks. */
    static void requireTargetAccepts(byte[] helloOk) {
        if (helloOk.length < 1 || (helloOk[0] & ACCEPTS_DISKS) == 0) {
            throw new MigrationException("the target accepts no mirrored disks: start it with "
                    + "xl migrate-receive --listen <host:port> --disk-dir <dir>");
        }
    }

    boolean active() {
        return !disks.isEmpty();
    }

    /** True when {@code d} is copied to the target (otherwise it is shared: opened in place there). */
    boolean mirrors(BlkDevice d) {
        return disks.contains(d);
    }

    long blocksSent() {
        return blocksSent;
    }

    long bytesSent() {
        return bytesSent;
    }

    /**
     * Announces the disks, switches write logging on, copies every non-zero block and re-sends written blocks for
     * up to {@link #MAX_ROUNDS} rounds, while the guest runs.
     */
    void bulk(Stream s, BooleanSupplier cancelled) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + disks.size() * (4 + 8 + 8 + 4));
        b.putInt(disks.size());
        for (BlkDevice d : disks) {
            byte[] t = d.target().getBytes(StandardCharsets.US_ASCII);
            b.putInt(t.length).put(t).putLong(d.writeLog().bytes()).putInt(B);
        }
        s.send(Stream.DISK_BEGIN, b.array(), 0, b.position());
        for (BlkDevice d : disks) {
            d.writeLog().setEnabled(true);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < disks.size(); i++) {
            BlkDevice d = disks.get(i);
            long n = d.writeLog().blocks();
            for (long k = 0; k < n; k++) {
                if ((k & 255) == 0 && cancelled.getAsBoolean()) {
                    throw new MigrationException("cancelled");
                }
                sendBlock(s, i, d, k, true);
            }
        }
        long bulkBlocks = blocksSent;
        int rounds = 0;
        long dirty = Long.MAX_VALUE;
        while (rounds < MAX_ROUNDS && dirty > CONVERGED_BLOCKS) {
            if (cancelled.getAsBoolean()) {
                throw new MigrationException("cancelled");
            }
            dirty = round(s);
            rounds++;
        }
        s.flush();
        LOG.log(System.Logger.Level.INFO, "event=disk_mirror_bulk disks=" + disks.size() + " bulk_blocks="
                + bulkBlocks + " rounds=" + rounds + " blocks=" + blocksSent + " bytes=" + bytesSent + " ms="
                + (System.nanoTime() - t0) / 1_000_000);
    }

    /** Sends the blocks written since the last round; returns how many. */
    long round(Stream s) throws IOException {
        long n = 0;
        for (int i = 0; i < disks.size(); i++) {
            BlkDevice d = disks.get(i);
            BlockWriteLog log = d.writeLog();
            for (int w = 0; w < log.words(); w++) {
                long bits = log.fetchAndClear(w);
                while (bits != 0) {
                    int bit = Long.numberOfTrailingZeros(bits);
                    bits &= bits - 1;
                    sendBlock(s, i, d, ((long) w << 6) + bit, false);
                    n++;
                }
            }
        }
        return n;
    }

    /** With the guest paused: the last written blocks, then DISK_DONE; returns the blocks sent now. */
    long finish(Stream s) throws IOException {
        long n = round(s);
        s.send(Stream.DISK_DONE, new byte[0]);
        return n;
    }

    /** Switches write logging off again (success or failure). */
    void stop() {
        for (BlkDevice d : disks) {
            d.writeLog().setEnabled(false);
        }
    }

    private void sendBlock(Stream s, int disk, BlkDevice d, long k, boolean skipZero) throws IOException {
        long pos = k * B;
        int len = (int) Math.min(B, d.writeLog().bytes() - pos);
        if (len <= 0) {
            return;
        }
        block.clear().limit(9 + len);
        block.position(9);
        d.readImage(block, pos);
        boolean zero = isZero(frame, 9, len);
        if (zero && skipZero) {
            return;
        }
        frame[0] = (byte) disk;
        ByteBuffer.wrap(frame, 1, 8).putLong(k);
        int payload = zero ? 9 : 9 + len;
        s.send(Stream.DISK_BLOCK, frame, 0, payload);
        blocksSent++;
        bytesSent += payload;
    }

    private static boolean isZero(byte[] a, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
