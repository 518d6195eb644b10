// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.api.MachineConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The receiving side of stream version 3, driven frame by frame over loopback by a scripted source: the order the
 * pause uses (state first, last pages, FINAL, then READY) and where a broken stream is refused.
 */
class MigrationTargetStreamTest {
    private static final MachineConfig CONFIG = new MachineConfig("stream-test", 16, 1,
            Path.of("/nonexistent/Image"), Optional.empty(), "", 0, List.of(), List.of());

    /** What a test does as the source once the handshake is done; {@code received} is the target's outcome. */
    @FunctionalInterface
    private interface Script {
        void run(Stream src, CompletableFuture<MigrationTarget.Incoming> received) throws Exception;
    }

    /** Connects a scripted source to {@link MigrationTarget#receive} on loopback, shakes hands, runs the script. */
    private static void scripted(Script script) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket t = server.accept()) {
            CompletableFuture<MigrationTarget.Incoming> received = new CompletableFuture<>();
            script.run(handshake(c, t, received), received);
        }
    }

    private static Stream handshake(Socket c, Socket t, CompletableFuture<MigrationTarget.Incoming> received)
            throws Exception {
        CompletableFuture.runAsync(() -> {
            try {
                received.complete(MigrationTarget.receive(t, m -> null, 20_000));
            } catch (RuntimeException e) {
                received.completeExceptionally(e);
            }
        });
        Stream src = new Stream(c);
        src.setTimeout(20_000);
        sendHello(src);
        assertThat(src.receive().type()).isEqualTo(Stream.HELLO_OK);
        return src;
    }

    private static void sendHello(Stream src) throws java.io.IOException {
        sendHello(src, CONFIG);
    }

    private static void sendHello(Stream src, MachineConfig c) throws java.io.IOException {
        byte[] config = dev.domus.xen.snapshot.Snapshots.encodeConfig(c);
        byte[] domain = "{}".getBytes();
        ByteBuffer hello = ByteBuffer.allocate(8 + 4 + 4 + config.length + 4 + domain.length);
        hello.put(Stream.MAGIC).putInt(Stream.VERSION).putInt(config.length).put(config).putInt(domain.length)
                .put(domain);
        src.send(Stream.HELLO, hello.array());
        src.flush();
    }

    @Test
    void prepareIsAnsweredOnlyOnceTheCallersBuildEnded() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket t = server.accept()) {
            CompletableFuture<Object> build = new CompletableFuture<>();
            java.util.concurrent.atomic.AtomicBoolean buildEnded = new java.util.concurrent.atomic.AtomicBoolean();
            Thread receiver = Thread.ofPlatform().daemon().start(() -> {
                try {
                    MigrationTarget.receive(t, (m, d) -> null, 20_000, in -> in.building(build), Optional.empty());
                } catch (RuntimeException e) {
                    build.completeExceptionally(e); // ends the builder below if the receiver failed first
                }
            });
            // The "build" ends once the receiver waits for it at PREPARE (its stack says so), not before.
            Thread builder = Thread.ofPlatform().daemon().start(() -> {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!build.isDone() && System.nanoTime() < deadline) {
                    boolean waiting = receiver.getState() == Thread.State.TIMED_WAITING
                            && java.util.Arrays.stream(receiver.getStackTrace())
                            .anyMatch(e -> e.getMethodName().equals("awaitBuild"));
                    if (waiting) {
                        buildEnded.set(true);
                        build.complete("built");
                    }
                    Thread.onSpinWait();
                }
            });
            Stream src = new Stream(c);
            src.setTimeout(20_000);
            sendHello(src);
            assertThat(src.receive().type()).isEqualTo(Stream.HELLO_OK);
            src.send(Stream.PAGES, onePage(1, (byte) 1));
            byte[] seq = java.nio.ByteBuffer.allocate(8).putLong(7).array();
            src.send(Stream.PREPARE, seq);
            src.flush();
            Stream.Frame f = src.receive();
            assertThat(f.type()).isEqualTo(Stream.SYNC_OK);
            assertThat(buildEnded).as("PREPARE answered while the build still ran").isTrue();
            builder.join(20_000);
            src.close();
        }
    }

    @Test
    void theHelloAnswerIsFavouredButTheBuildCallbackAndTheWayOutSeeTheStartingNiceValue() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket t = server.accept()) {
            CompletableFuture<Optional<Integer>> atStart = new CompletableFuture<>();
            CompletableFuture<Optional<Integer>> inCheck = new CompletableFuture<>();
            CompletableFuture<Optional<Integer>> atAccepted = new CompletableFuture<>();
            CompletableFuture<Optional<Integer>> afterFailure = new CompletableFuture<>();
            // A platform thread of its own: the nice value is per thread and a pooled one would carry it on.
            Thread.ofPlatform().daemon().start(() -> {
                atStart.complete(Priority.currentNice());
                try {
                    MigrationTarget.receive(t, (m, d) -> {
                        inCheck.complete(Priority.currentNice());
                        return null;
                    }, 20_000, in -> atAccepted.complete(Priority.currentNice()), Optional.empty());
                } catch (RuntimeException e) {
                    afterFailure.complete(Priority.currentNice());
                }
            });
            Stream src = new Stream(c);
            src.setTimeout(20_000);
            sendHello(src);
            assertThat(src.receive().type()).isEqualTo(Stream.HELLO_OK);
            Optional<Integer> start = atStart.get(20, java.util.concurrent.TimeUnit.SECONDS);
            // Favoured while answering (unless this host refuses a lower nice value: then unchanged).
            assertThat(inCheck.get(20, java.util.concurrent.TimeUnit.SECONDS).orElseThrow())
                    .isLessThanOrEqualTo(start.orElseThrow());
            // The build thread is started from the callback and would inherit a favoured value.
            assertThat(atAccepted.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(start);
            src.close(); // the stream breaks during RAM: the receiver fails and is put back
            assertThat(afterFailure.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(start);
        }
    }

    /** Runs a prepared target's receive of {@code t} into {@code ram} on a thread; {@code onCheck} marks the HELLO check. */
    private static CompletableFuture<MigrationTarget.Incoming> receivePrepared(Socket t,
            dev.domus.xen.memory.GuestMemory ram, Runnable onCheck) {
        CompletableFuture<MigrationTarget.Incoming> received = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                received.complete(MigrationTarget.receive(t, (m, d) -> {
                    onCheck.run();
                    return null;
                }, 20_000, in -> { }, Optional.empty(), Optional.of(new MigrationTarget.Prepared(CONFIG, ram))));
            } catch (RuntimeException e) {
                received.completeExceptionally(e);
            }
        });
        return received;
    }

    @Test
    void aPreparedMachinesRamReceivesThePagesAndOutlivesAFailedStream() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket t = server.accept();
             dev.domus.xen.memory.GuestMemory ram = MigrationTarget.Prepared.allocateRam(CONFIG)) {
            CompletableFuture<Boolean> helloChecked = new CompletableFuture<>();
            CompletableFuture<MigrationTarget.Incoming> received = receivePrepared(t, ram,
                    () -> helloChecked.complete(true));
            Stream src = new Stream(c);
            src.setTimeout(20_000);
            sendHello(src);
            assertThat(src.receive().type()).isEqualTo(Stream.HELLO_OK);
            assertThat(helloChecked.get(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            src.send(Stream.PAGES, onePage(3, (byte) 9));
            src.send(Stream.SYNC, new byte[8]);
            src.flush();
            assertThat(src.receive().type()).isEqualTo(Stream.SYNC_OK); // everything before it is applied
            var seg = ram.segment();
            assertThat(seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 3L * 4096)).isEqualTo((byte) 9);
            assertThat(seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4L * 4096)).isZero();
            src.close(); // the stream breaks: the receiver fails, but the RAM is the machine's, not closed
            assertThatThrownBy(received::join).isInstanceOf(java.util.concurrent.CompletionException.class);
            assertThat(seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 3L * 4096 + 4095)).isEqualTo((byte) 9);
        }
    }

    @Test
    void aPreparedTargetRefusesAHelloForAnotherConfigurationNamingTheDifference() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket t = server.accept();
             dev.domus.xen.memory.GuestMemory ram = MigrationTarget.Prepared.allocateRam(CONFIG)) {
            java.util.concurrent.atomic.AtomicBoolean checked = new java.util.concurrent.atomic.AtomicBoolean();
            CompletableFuture<MigrationTarget.Incoming> received = receivePrepared(t, ram, () -> checked.set(true));
            Stream src = new Stream(c);
            src.setTimeout(20_000);
            sendHello(src, new MachineConfig("stream-test", 32, 1, Path.of("/nonexistent/Image"), Optional.empty(),
                    "", 0, List.of(), List.of()));
            Stream.Frame f = src.receive();
            assertThat(f.type()).isEqualTo(Stream.ERROR);
            assertThat(new String(f.copy(), java.nio.charset.StandardCharsets.UTF_8))
                    .contains("built ahead for another configuration").contains("memoryMiB 32 (target: 16)");
            assertThatThrownBy(received::join).hasMessageContaining("refused");
            assertThat(checked).as("the caller's check is not asked for a configuration that cannot fit").isFalse();
        }
    }

    @Test
    void aPreparedMachineMustHaveTheRamOfItsConfiguration() {
        try (dev.domus.xen.memory.GuestMemory ram = dev.domus.xen.memory.GuestMemory.allocate(0x8000_0000L,
                8L << 20)) {
            assertThatThrownBy(() -> new MigrationTarget.Prepared(CONFIG, ram))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16 MiB");
        }
    }

    private static byte[] onePage(long index, byte fill) {
        byte[] f = new byte[4 + 8 + 4096];
        ByteBuffer.wrap(f).putInt(1).putLong(index);
        java.util.Arrays.fill(f, 12, f.length, fill);
        return f;
    }

    @Test
    void aPreviewThatDoesNotDecodeFailsTheNextRoundSync() throws Exception {
        scripted((src, received) -> {
            src.send(Stream.PREVIEW, new byte[24]); // checksummed frame, garbage state
            src.send(Stream.PAGES, onePage(3, (byte) 7));
            src.flush();
            // The preview is checked in the background: the stream goes on until a sync reports it.
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!received.isDone() && System.nanoTime() < deadline) {
                src.send(Stream.SYNC, new byte[8]);
                src.flush();
                try {
                    assertThat(src.receive().type()).isEqualTo(Stream.SYNC_OK);
                } catch (java.io.IOException e) {
                    break; // the target gave up and closed
                }
                Thread.sleep(20);
            }
            assertThatThrownBy(received::join).hasMessageContaining("bad state preview");
        });
    }

    @Test
    void theLastPagesMayFollowTheStateAndReadyComesOnlyWithFinal() throws Exception {
        scripted((src, received) -> {
            src.send(Stream.PAGES, onePage(1, (byte) 1));
            src.send(Stream.PAUSING, new byte[0]);
            src.send(Stream.STATE, new byte[16]); // garbage: refused when decoded, before any READY
            src.send(Stream.PAGES, onePage(2, (byte) 2));
            src.send(Stream.FINAL, new byte[0]);
            src.flush();
            assertThatThrownBy(received::join).isInstanceOf(java.util.concurrent.CompletionException.class);
            // No READY was sent: the next thing the source sees is the end of the connection.
            assertThatThrownBy(src::receive).isInstanceOf(java.io.IOException.class);
        });
    }

    @Test
    void finalWithoutAStateIsAProtocolError() throws Exception {
        scripted((src, received) -> {
            src.send(Stream.PAGES, onePage(1, (byte) 1));
            src.send(Stream.FINAL, new byte[0]);
            src.flush();
            assertThatThrownBy(received::join).hasMessageContaining("unexpected frame type " + Stream.FINAL);
        });
    }

    @Test
    void prepareIsAnsweredWithItsSequenceAfterTheTargetCollected() throws Exception {
        scripted((src, received) -> {
            src.send(Stream.PAGES, onePage(1, (byte) 1));
            byte[] seq = java.nio.ByteBuffer.allocate(8).putLong(42).array();
            src.send(Stream.PREPARE, seq);
            src.flush();
            Stream.Frame f = src.receive();
            assertThat(f.type()).isEqualTo(Stream.SYNC_OK);
            assertThat(f.copy()).isEqualTo(seq);
            // PREPARE is not the end of the stream: the target still waits for the state.
            assertThat(received).isNotDone();
        });
    }
}
