// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import dev.domus.xen.api.DiskConfig;
import dev.domus.xen.api.MachineConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The target side of disk mirroring ({@link DiskMirror}): writes the mirrored images as
 * {@code <disk dir>/<domain>.<vdX>.img} (created new, never over an existing file), checks every disk name, size,
 * block index and length against what was announced, and deletes what it wrote when the migration fails. The
 * images exist at full size right after {@code DISK_BEGIN}, so the machine is built on them early (its vCPUs stay
 * parked, and the device state is refused before {@code DISK_DONE}).
 */
final class DiskMirrorReceiver {
    /** Largest disk accepted (16 TiB): a bound before any file is created. */
    static final long MAX_DISK_BYTES = 16L << 40;

    private record Disk(String target, long bytes, int blockSize, Path path, FileChannel channel) { }

    private final Optional<Path> dir;
    private final Optional<Path> journal;
    private final MachineConfig config;
    private final List<Disk> disks = new ArrayList<>();
    private boolean begun;
    private boolean done;
    private long blocks;

    /**
     * @param journal a file that lists (one path a line) every image this receiver creates, before it writes to
     *                it, so whoever started this process can delete them if it dies (kill -9) before the end
     */
    DiskMirrorReceiver(Optional<Path> dir, Optional<Path> journal, MachineConfig config) {
        this.dir = dir;
        this.journal = journal;
        this.config = config;
    }

    /** Reads a journal left by a receiver that died and deletes the images it lists, then the journal. */
    static void cleanUp(Path journal) {
        try {
            if (!Files.exists(journal)) {
                return;
            }
            for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    Files.deleteIfExists(Path.of(line));
                }
            }
            Files.deleteIfExists(journal);
        } catch (IOException | RuntimeException e) {
            System.getLogger(DiskMirrorReceiver.class.getName()).log(System.Logger.Level.WARNING,
                    "event=disk_mirror_cleanup_failed journal=" + journal + " error=\"" + e.getMessage() + "\"");
        }
    }

    /** The migration committed: the images belong to the running domain now, forget the journal. */
    void committed() {
        journal.ifPresent(j -> {
            try {
                Files.deleteIfExists(j);
            } catch (IOException e) {
                // a stale journal only names files of a domain that runs: its owner removes it before reuse
            }
        });
    }

    boolean begun() {
        return begun;
    }

    boolean done() {
        return done;
    }

    long blocks() {
        return blocks;
    }

    /** DISK_BEGIN: validates the announced disks and creates their (sparse) files. */
    void begin(byte[] payload) throws IOException {
        if (begun) {
            throw new MigrationException("second DISK_BEGIN");
        }
        begun = true;
        if (dir.isEmpty()) {
            throw new MigrationException("the source mirrors disks but this target has no disk directory "
                    + "(migrate-receive --disk-dir DIR)");
        }
        ByteBuffer b = ByteBuffer.wrap(payload);
        int n = need(b, 4).getInt();
        if (n < 1 || n > config.disks().size()) {
            throw new MigrationException("DISK_BEGIN announces " + n + " disks, the machine has "
                    + config.disks().size());
        }
        for (int i = 0; i < n; i++) {
            int tl = need(b, 4).getInt();
            if (tl != 3) {
                throw new MigrationException("DISK_BEGIN disk name length " + tl + " is invalid");
            }
            byte[] t = new byte[3];
            need(b, 3 + 12).get(t);
            String target = new String(t, StandardCharsets.US_ASCII);
            long bytes = b.getLong();
            int bs = b.getInt();
            if (config.disks().stream().map(DiskConfig::target).noneMatch(target::equals)
                    || disks.stream().anyMatch(d -> d.target().equals(target))) {
                throw new MigrationException("DISK_BEGIN names disk '" + target + "' which the machine does not "
                        + "have or which was named twice");
            }
            if (bytes < 512 || bytes > MAX_DISK_BYTES || bs < 512 || bs > (1 << 20) || Integer.bitCount(bs) != 1) {
                throw new MigrationException("DISK_BEGIN disk " + target + ": size " + bytes + " or block size "
                        + bs + " is out of range");
            }
            Path p = dir.get().resolve(config.name() + "." + target + ".img");
            if (Files.exists(p)) {
                throw new MigrationException("mirror target " + p + " already exists; refusing to overwrite it");
            }
            FileChannel ch;
            try {
                ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // created by someone else between the check and here: not ours, never delete it
                throw new MigrationException("mirror target " + p + " already exists; refusing to overwrite it");
            }
            disks.add(new Disk(target, bytes, bs, p, ch));
            // Created first, journalled second: a crash in between leaks a file but never names someone else's.
            if (journal.isPresent()) {
                Files.writeString(journal.get(), p + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
            ch.truncate(0);
            ch.write(ByteBuffer.allocate(1), bytes - 1); // sets the size, the rest stays a hole
        }
        if (b.hasRemaining()) {
            throw new MigrationException("DISK_BEGIN has " + b.remaining() + " trailing bytes");
        }
    }

    /** DISK_BLOCK: one block (or an empty payload tail for a block of zeros). */
    void block(byte[] payload) throws IOException {
        if (!begun || done) {
            throw new MigrationException("DISK_BLOCK " + (done ? "after DISK_DONE" : "before DISK_BEGIN"));
        }
        if (payload.length < 9) {
            throw new MigrationException("DISK_BLOCK is too short");
        }
        int i = payload[0] & 0xff;
        if (i >= disks.size()) {
            throw new MigrationException("DISK_BLOCK for disk " + i + " of " + disks.size());
        }
        Disk d = disks.get(i);
        long k = ByteBuffer.wrap(payload, 1, 8).getLong();
        long pos = k * d.blockSize();
        if (k < 0 || pos / d.blockSize() != k || pos >= d.bytes()) {
            throw new MigrationException("DISK_BLOCK index " + k + " is outside disk " + d.target());
        }
        int len = (int) Math.min(d.blockSize(), d.bytes() - pos);
        int data = payload.length - 9;
        ByteBuffer src;
        if (data == 0) {
            src = ByteBuffer.allocate(len);
        } else if (data == len) {
            src = ByteBuffer.wrap(payload, 9, len);
        } else {
            throw new MigrationException("DISK_BLOCK " + k + " of " + d.target() + " carries " + data
                    + " bytes, expected " + len + " or 0");
        }
        while (src.hasRemaining()) {
            pos += d.channel().write(src, pos);
        }
        blocks++;
    }

    /** Target name to image path of the announced disks (after {@link #begin}). */
    Map<String, Path> images() {
        Map<String, Path> m = new LinkedHashMap<>();
        for (Disk d : disks) {
            m.put(d.target(), d.path());
        }
        return Map.copyOf(m);
    }

    /** The images' channels (for {@link #flush}). */
    List<FileChannel> channels() {
        return disks.stream().map(Disk::channel).toList();
    }

    /** Writes what was copied so far back to the images (best effort, before DISK_DONE). */
    static void flush(List<FileChannel> channels) {
        for (FileChannel ch : channels) {
            try {
                ch.force(false);
            } catch (IOException e) {
                // closed by a failed migration, or DISK_DONE forces again and reports a failure there
            }
        }
    }

    /**
     * DISK_DONE: flushes the images; returns target name to image path. The channels stay open: the machine, built
     * early, has the images open and locked (fcntl) already, and closing any descriptor of a file drops every lock
     * the process holds on it, so they are only closed by {@link #discard} (the machine is gone then) or with the
     * process.
     */
    Map<String, Path> finish() throws IOException {
        if (!begun || done) {
            throw new MigrationException("DISK_DONE " + (done ? "twice" : "before DISK_BEGIN"));
        }
        Map<String, Path> m = new LinkedHashMap<>();
        for (Disk d : disks) {
            d.channel().force(true);
            m.put(d.target(), d.path());
        }
        done = true;
        return Map.copyOf(m);
    }

    /** Closes and deletes every image this receiver created (the migration failed). */
    void discard() {
        for (Disk d : disks) {
            try {
                d.channel().close();
            } catch (IOException e) {
                // deleting anyway
            }
            try {
                Files.deleteIfExists(d.path());
            } catch (IOException e) {
                System.getLogger(DiskMirrorReceiver.class.getName()).log(System.Logger.Level.WARNING,
                        "event=disk_mirror_discard_failed path=" + d.path() + " error=\"" + e.getMessage() + "\"");
            }
        }
        disks.clear();
        journal.ifPresent(DiskMirrorReceiver::cleanUp);
    }

    private static ByteBuffer need(ByteBuffer b, int n) {
        if (b.remaining() < n) {
            throw new MigrationException("DISK_BEGIN ends early");
        }
        return b;
    }
}
