// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.api.Machine;
import dev.domus.xen.memory.DirtyLog;
import dev.domus.xen.memory.GuestMemory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A snapshot of a running machine with a short pause ({@code xl save --checkpoint}): pre-copy into a file, the
 * way a live migration pre-copies to a target.
 *
 * <p>With dirty logging on, RAM is copied while the guest runs into a sparse scratch image next to the snapshot
 * (page {@code n} at offset {@code n * 4096}), then the pages dirtied meanwhile are copied again for a few rounds
 * while they shrink. The pause holds only the last dirty pages and the device state. The scratch image is then a
 * consistent picture of RAM at the pause, and the snapshot file proper (bitmap of non-zero pages, pages in order,
 * CRCs; {@link Snapshots#write}) is written from it while the guest runs on; the scratch image is deleted.
 */
final class Checkpoint {
    private static final int PAGE = (int) GuestMemory.PAGE_SIZE;
    private static final long CHUNK = 1 << 20;
    private static final MemorySegment ZERO = MemorySegment.ofArray(new byte[(int) CHUNK]);
    /** Dirty rounds while running at most; each must shrink the remainder to at most 3/4 of the one before. */
    static final int MAX_ROUNDS = 8;
    /** Stop the rounds once this few pages are dirty: copying them paused takes well under a millisecond. */
    static final long SMALL_PAGES = 64;

    private Checkpoint() {
    }

    /**
     * Writes a snapshot of the running {@code machine} to {@code file}; the machine runs again when this returns,
     * whether it succeeded or not.
     *
     * @throws SnapshotException naming the file and the problem
     */
    static Snapshots.Checkpointed write(Path file, Machine machine, byte[] domain) {
        GuestMemory ram = machine.memory();
        DirtyLog log = machine.dirtyLog();
        if (log.enabled()) {
            throw new SnapshotException("cannot checkpoint: dirty logging is in use (a migration?)");
        }
        Path abs = file.toAbsolutePath();
        Path scratch = null;
        boolean paused = false;
        try {
            scratch = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".ram");
            MachineState state;
            long pausedNanos;
            int rounds = 0;
            long finalPages;
            try (FileChannel ch = FileChannel.open(scratch, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(1), ram.size() - 1); // full size, a hole until written
                // Logging goes on while paused so no store falls between the switch and the copy that follows.
                machine.pause();
                paused = true;
                log.setEnabled(true);
                machine.resume();
                paused = false;
                copyNonZero(ch, ram.segment(), ram.size());
                long[] dirty = new long[log.words()];
                long last = Long.MAX_VALUE;
                while (rounds < MAX_ROUNDS) {
                    long n = log.fetchAndClearAll(dirty);
                    if (n <= SMALL_PAGES || n > last * 3 / 4) {
                        break; // small enough, or no longer shrinking: the pause takes the rest
                    }
                    copyPages(ch, ram.segment(), dirty);
                    last = n;
                    rounds++;
                }
                machine.pause();
                paused = true;
                // The pause is counted from here, when every vCPU stopped (the guest ran until then).
                long t1 = System.nanoTime();
                finalPages = 0;
                for (int w = 0; w < dirty.length; w++) {
                    dirty[w] |= log.fetchAndClear(w);
                    finalPages += Long.bitCount(dirty[w]);
                }
                copyPages(ch, ram.segment(), dirty);
                state = machine.captureState(domain);
                log.setEnabled(false);
                machine.resume();
                paused = false;
                pausedNanos = System.nanoTime() - t1;
            }
            long bytes;
            try (Arena arena = Arena.ofConfined();
                 FileChannel ch = FileChannel.open(scratch, StandardOpenOption.READ)) {
                MemorySegment image = ch.map(FileChannel.MapMode.READ_ONLY, 0, ram.size(), arena);
                bytes = Snapshots.write(file, state, ram.base(), ram.size(), image);
            }
            return new Snapshots.Checkpointed(bytes, pausedNanos / 1000, rounds, finalPages);
        } catch (IOException e) {
            throw new SnapshotException("cannot checkpoint to " + file + ": " + e, e);
        } finally {
            if (log.enabled()) {
                if (!paused) {
                    machine.pause();
                    paused = true;
                }
                log.setEnabled(false);
            }
            if (paused) {
                machine.resume();
            }
            if (scratch != null) {
                try {
                    Files.deleteIfExists(scratch);
                } catch (IOException e) {
                    // a leftover hidden scratch file costs only disk space
                }
            }
        }
    }

    /** Copies RAM into the image, skipping 1 MiB chunks of zeros (the image's holes read as zeros). */
    private static void copyNonZero(FileChannel ch, MemorySegment seg, long size) throws IOException {
        for (long off = 0; off < size; off += CHUNK) {
            long len = Math.min(CHUNK, size - off);
            long m = seg.asSlice(off, len).mismatch(ZERO.asSlice(0, len));
            if (m == -1) {
                continue;
            }
            long from = off + m / PAGE * PAGE;
            writeFully(ch, seg.asSlice(from, off + len - from).asByteBuffer(), from);
        }
    }

    /** Copies the pages set in {@code bitmap}, runs of adjacent pages in one write each. */
    private static void copyPages(FileChannel ch, MemorySegment seg, long[] bitmap) throws IOException {
        long pages = (long) bitmap.length << 6;
        long p = 0;
        while (p < pages) {
            int w = (int) (p >>> 6);
            long bits = bitmap[w] >>> (p & 63);
            if (bits == 0) {
                p = (long) (w + 1) << 6;
                continue;
            }
            p += Long.numberOfTrailingZeros(bits);
            long run = p;
            while (run < pages && (bitmap[(int) (run >>> 6)] & (1L << (run & 63))) != 0) {
                run++;
            }
            writeFully(ch, seg.asSlice(p * PAGE, (run - p) * PAGE).asByteBuffer(), p * PAGE);
            p = run;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        long at = pos;
        while (b.hasRemaining()) {
            at += ch.write(b, at);
        }
    }
}
