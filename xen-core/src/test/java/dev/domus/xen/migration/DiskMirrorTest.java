// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.api.DiskConfig;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.devices.virtio.blk.BlkDevice;
import dev.domus.xen.devices.virtio.blk.BlockWriteLog;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Disk mirroring over a real loopback stream: a real image, {@link DiskMirror} against {@link DiskMirrorReceiver}. */
class DiskMirrorTest {
    private static final int B = BlockWriteLog.BLOCK_SIZE;

    @TempDir
    Path dir;

    private static MachineConfig config(Path... images) {
        List<DiskConfig> disks = new java.util.ArrayList<>();
        for (int i = 0; i < images.length; i++) {
            disks.add(new DiskConfig(images[i], false, "vd" + (char) ('a' + i)));
        }
        return new MachineConfig("mirror-test", 64, 1, Path.of("/nonexistent/Image"), Optional.empty(), "", 0,
                disks, List.of());
    }

    /** Two connected streams on loopback. */
    private static Stream[] pair() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            Socket s = server.accept();
            return new Stream[] {new Stream(c), new Stream(s)};
        }
    }

    private Path image(String name, long size, long... dataBlocks) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
            Random r = new Random(size);
            for (long k : dataBlocks) {
                byte[] b = new byte[(int) Math.min(B, size - k * B)];
                r.nextBytes(b);
                f.seek(k * B);
                f.write(b);
            }
        }
        return p;
    }

    /** Receives disk frames until DISK_DONE; returns the mirrored images. */
    private static Map<String, Path> receive(Stream in, DiskMirrorReceiver r) throws IOException {
        while (true) {
            Stream.Frame f = in.receive();
            switch (f.type()) {
                case Stream.DISK_BEGIN -> r.begin(f.copy());
                case Stream.DISK_BLOCK -> r.block(f.copy());
                case Stream.DISK_DONE -> {
                    return r.finish();
                }
                default -> throw new AssertionError("unexpected frame " + f.type());
            }
        }
    }

    @Test
    void bulkCopySkipsZeroBlocksAndTheCopyIsIdentical() throws Exception {
        long size = 40L * B + 4096; // a short last block
        Path src = image("src.img", size, 0, 3, 17, 40);
        Path out = Files.createDirectories(dir.resolve("target"));
        Path journal = dir.resolve("journal");
        BlkDevice dev = BlkDevice.open("vda", src, false);
        Stream[] s = pair();
        try {
            DiskMirror m = DiskMirror.of(List.of(dev), Set.of("all"));
            DiskMirrorReceiver r = new DiskMirrorReceiver(Optional.of(out), Optional.of(journal), config(src));
            CompletableFuture<Map<String, Path>> got = CompletableFuture.supplyAsync(() -> {
                try {
                    return receive(s[1], r);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            m.bulk(s[0], () -> false);
            assertThat(dev.writeLog().enabled()).as("logging on while mirroring").isTrue();
            m.finish(s[0]);
            s[0].flush();
            Map<String, Path> images = got.get();
            m.stop();
            assertThat(dev.writeLog().enabled()).isFalse();
            assertThat(m.blocksSent()).as("only the four blocks holding data").isEqualTo(4);
            Path copy = out.resolve("mirror-test.vda.img");
            assertThat(images).containsExactly(Map.entry("vda", copy));
            assertThat(Files.size(copy)).isEqualTo(size);
            assertThat(Files.mismatch(src, copy)).isEqualTo(-1);
            assertThat(Files.readString(journal).strip()).isEqualTo(copy.toString());
            r.committed();
            assertThat(journal).doesNotExist();
        } finally {
            dev.close();
            s[0].close();
            s[1].close();
        }
    }

    @Test
    void unknownDiskNamesAreRefusedBeforeAnythingIsSent() throws IOException {
        BlkDevice dev = BlkDevice.open("vda", image("a.img", 4L * B), false);
        try {
            assertThatThrownBy(() -> DiskMirror.of(List.of(dev), Set.of("vdb"))).isInstanceOf(MigrationException.class)
                    .hasMessageContaining("cannot mirror [vdb]");
            assertThat(DiskMirror.of(List.of(dev), Set.of()).active()).as("nothing named: shared disks").isFalse();
        } finally {
            dev.close();
        }
    }

    @Test
    void aTargetWithoutDiskDirectoryIsRefusedInTheHandshake() {
        DiskMirror.requireTargetAccepts(DiskMirror.helloFlags(true));
        assertThatThrownBy(() -> DiskMirror.requireTargetAccepts(DiskMirror.helloFlags(false)))
                .hasMessageContaining("--disk-dir");
        assertThatThrownBy(() -> DiskMirror.requireTargetAccepts(new byte[0])).as("a version-1 style empty HELLO_OK")
                .hasMessageContaining("--disk-dir");
    }

    private static byte[] begin(String target, long size, int bs) {
        return ByteBuffer.allocate(4 + 4 + 3 + 12).putInt(1).putInt(3).put(target.getBytes()).putLong(size)
                .putInt(bs).array();
    }

    private static byte[] block(int disk, long k, int len) {
        return ByteBuffer.allocate(9 + len).put((byte) disk).putLong(k).array();
    }

    @Test
    void hostileFramesAreRefusedAndDiscardDeletesWhatWasCreated() throws IOException {
        Path out = Files.createDirectories(dir.resolve("t"));
        MachineConfig cfg = config(dir.resolve("x.img"));
        DiskMirrorReceiver none = new DiskMirrorReceiver(Optional.empty(), Optional.empty(), cfg);
        assertThatThrownBy(() -> none.begin(begin("vda", 8L * B, B))).hasMessageContaining("--disk-dir");
        assertThatThrownBy(() -> new DiskMirrorReceiver(Optional.of(out), Optional.empty(), cfg)
                .begin(begin("vdb", 8L * B, B))).hasMessageContaining("'vdb'");
        assertThatThrownBy(() -> new DiskMirrorReceiver(Optional.of(out), Optional.empty(), cfg)
                .begin(begin("vda", 1L << 60, B))).hasMessageContaining("out of range");
        assertThatThrownBy(() -> new DiskMirrorReceiver(Optional.of(out), Optional.empty(), cfg)
                .begin(begin("vda", 8L * B, 3000))).hasMessageContaining("out of range");
        assertThatThrownBy(() -> new DiskMirrorReceiver(Optional.of(out), Optional.empty(), cfg)
                .block(block(0, 0, 0))).hasMessageContaining("before DISK_BEGIN");
        try (var l = Files.list(out)) {
            assertThat(l.toList()).as("nothing created by refused announcements").isEmpty();
        }

        Path journal = dir.resolve("j");
        DiskMirrorReceiver r = new DiskMirrorReceiver(Optional.of(out), Optional.of(journal), cfg);
        r.begin(begin("vda", 8L * B + 512, B));
        Path img = out.resolve("mirror-test.vda.img");
        assertThat(img).exists();
        assertThatThrownBy(() -> r.block(block(1, 0, 0))).hasMessageContaining("disk 1 of 1");
        assertThatThrownBy(() -> r.block(block(0, 9, 0))).hasMessageContaining("outside");
        assertThatThrownBy(() -> r.block(block(0, -1, 0))).hasMessageContaining("outside");
        assertThatThrownBy(() -> r.block(block(0, Long.MAX_VALUE / 4, 0))).hasMessageContaining("outside");
        assertThatThrownBy(() -> r.block(block(0, 0, 100))).hasMessageContaining("expected " + B);
        assertThatThrownBy(() -> r.block(block(0, 8, B))).as("the short last block").hasMessageContaining(
                "expected 512");
        r.block(block(0, 8, 512));
        r.block(block(0, 0, 0));
        assertThat(Files.size(img)).isEqualTo(8L * B + 512);
        r.discard();
        assertThat(img).doesNotExist();
        assertThat(journal).doesNotExist();

        // An existing file is never overwritten, and a refusal does not delete it.
        Files.writeString(img, "precious");
        DiskMirrorReceiver again = new DiskMirrorReceiver(Optional.of(out), Optional.of(journal), cfg);
        assertThatThrownBy(() -> again.begin(begin("vda", 8L * B, B))).hasMessageContaining("already exists");
        again.discard();
        assertThat(Files.readString(img)).isEqualTo("precious");
    }

    @Test
    void theTargetHandsOutTheImagesRightAfterDiskBeginAndTakesTheStateOnlyAfterDiskDone() throws Exception {
        for (boolean copyEnded : new boolean[] {false, true}) {
            Path out = Files.createDirectories(dir.resolve("early-" + copyEnded));
            MachineConfig cfg = config(dir.resolve("x.img"));
            try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                 Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                 Socket t = server.accept()) {
                CompletableFuture<MigrationTarget.Incoming> accepted = new CompletableFuture<>();
                CompletableFuture<MigrationTarget.Incoming> received = CompletableFuture.supplyAsync(
                        () -> MigrationTarget.receive(t, (m, domain) -> null, 20_000, accepted::complete,
                                Optional.of(new MigrationTarget.DiskTarget(out, dir.resolve("journal")))));
                Stream src = new Stream(c);
                src.setTimeout(20_000);
                byte[] config = dev.domus.xen.snapshot.Snapshots.encodeConfig(cfg);
                byte[] domain = "{}".getBytes();
                ByteBuffer hello = ByteBuffer.allocate(8 + 4 + 4 + config.length + 4 + domain.length);
                hello.put(Stream.MAGIC).putInt(Stream.VERSION).putInt(config.length).put(config)
                        .putInt(domain.length).put(domain);
                src.send(Stream.HELLO, hello.array());
                src.flush();
                assertThat(src.receive().type()).isEqualTo(Stream.HELLO_OK);
                src.send(Stream.DISK_BEGIN, begin("vda", 8L * B, B));
                src.flush();
                // The machine may be built on the images now, long before the copy ends (out of the downtime).
                Path img = out.resolve("mirror-test.vda.img");
                assertThat(accepted.get(20, java.util.concurrent.TimeUnit.SECONDS).mirroredDisks())
                        .containsExactly(Map.entry("vda", img));
                assertThat(Files.size(img)).as("full size at once").isEqualTo(8L * B);
                if (copyEnded) {
                    src.send(Stream.DISK_BLOCK, block(0, 0, B));
                    src.send(Stream.DISK_DONE, new byte[0]);
                }
                // The guest must never run on a half-copied disk: a state before DISK_DONE fails the migration;
                // after it, this (garbage) state fails only in its own decoding.
                src.send(Stream.STATE, new byte[16]);
                src.flush();
                if (copyEnded) {
                    assertThatThrownBy(received::join).hasMessageNotContaining("disk copy");
                } else {
                    assertThatThrownBy(received::join).hasMessageContaining("before the disk copy ended");
                }
                assertThat(img).as("the partial copy is deleted").doesNotExist();
            }
        }
    }

    @Test
    void aJournalLeftByADeadReceiverDeletesItsImages() throws IOException {
        Path a = Files.writeString(dir.resolve("a.img"), "a");
        Path b = Files.writeString(dir.resolve("b.img"), "b");
        Path journal = Files.writeString(dir.resolve("journal"), a + "\n" + b + "\n");
        MigrationTarget.discardJournal(journal);
        assertThat(a).doesNotExist();
        assertThat(b).doesNotExist();
        assertThat(journal).doesNotExist();
        MigrationTarget.discardJournal(journal); // idempotent
    }
}
