// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.testing.Frames;
import dev.domus.xen.testing.NetNs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TapBackend} against the real kernel: each test opens taps in this JVM, moves them into a network namespace
 * it creates (the descriptor keeps working across the move) and talks to the kernel stack or a bridge there. Needs
 * root and /dev/net/tun; fails, never skips, without them.
 */
class TapBackendIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final byte[] GUEST_MAC = Frames.mac("52:54:00:12:34:56");
    private static final byte[] GUEST_IP = Frames.ipv4("10.213.7.2");
    private static final byte[] HOST_IP = Frames.ipv4("10.213.7.1");

    @BeforeAll
    static void needsTun() {
        assertThat(Path.of("/dev/net/tun")).as("/dev/net/tun (tun module) is required").exists();
        assertThat(Files.isReadable(Path.of("/dev/net/tun"))).as("/dev/net/tun must be readable (run as root)").isTrue();
    }

    /** A tap name unique to this JVM and test: "dxt" + pid + letter + counter, at most 15 characters. */
    static String tapName(char role) {
        return "dxt" + (ProcessHandle.current().pid() % 100_000) + role + SEQ.incrementAndGet();
    }

    static TapBackend openIn(NetNs ns, String name) throws IOException {
        TapBackend tap = TapBackend.open(name);
        try {
            ns.adoptLink(name);
            // The tap was up in this JVM's namespace for a moment: that namespace may have queued frames on it
            // (IPv6 MLD reports, router solicitations) before the move. Nothing more can come from there now.
            ByteBuffer sink = ByteBuffer.allocate(TapBackend.MAX_FRAME);
            while (tap.receive(sink.clear(), 0) > 0) {
                // discard
            }
            return tap;
        } catch (RuntimeException e) {
            tap.close();
            throw e;
        }
    }

    @Test
    void kernelAnswersArpAndIcmpEchoSentThroughATapMovedIntoANamespace() throws Exception {
        try (NetNs ns = NetNs.create("arp")) {
            ns.disableIpv6();
            String name = tapName('a');
            try (TapBackend tap = openIn(ns, name)) {
                assertThat(tap.name()).isEqualTo(name);
                ns.addAddress(name, "10.213.7.1/24");
                byte[] hostMac = Frames.mac(ns.mac(name));

                tap.send(Frames.arpRequest(GUEST_MAC, GUEST_IP, HOST_IP));
                ByteBuffer arp = awaitFrame(tap, f -> Frames.ethertype(f) == Frames.ETHERTYPE_ARP
                        && f.getShort(20) == 2);
                assertThat(Frames.bytes(arp, 0, 6)).as("eth dst").isEqualTo(GUEST_MAC);
                assertThat(Frames.bytes(arp, 6, 6)).as("eth src").isEqualTo(hostMac);
                assertThat(Frames.bytes(arp, 22, 6)).as("sender MAC").isEqualTo(hostMac);
                assertThat(Frames.bytes(arp, 28, 4)).as("sender IP").isEqualTo(HOST_IP);
                assertThat(Frames.bytes(arp, 32, 6)).as("target MAC").isEqualTo(GUEST_MAC);
                assertThat(Frames.bytes(arp, 38, 4)).as("target IP").isEqualTo(GUEST_IP);

                byte[] payload = "domus-tap-echo-0123456789abcdef".getBytes();
                tap.send(Frames.icmpEchoRequest(GUEST_MAC, hostMac, GUEST_IP, HOST_IP, 0x4d2, 7, payload));
                ByteBuffer echo = awaitFrame(tap, f -> Frames.ethertype(f) == Frames.ETHERTYPE_IPV4
                        && f.get(23) == 1 && f.get(34) == 0);
                int ihl = (echo.get(14) & 0x0f) * 4;
                int ipLen = echo.getShort(16) & 0xffff;
                int icmp = 14 + ihl;
                assertThat(Frames.bytes(echo, 0, 6)).as("eth dst").isEqualTo(GUEST_MAC);
                assertThat(Frames.bytes(echo, 26, 4)).as("IP src").isEqualTo(HOST_IP);
                assertThat(Frames.bytes(echo, 30, 4)).as("IP dst").isEqualTo(GUEST_IP);
                assertThat(Frames.checksum(echo, 14, ihl)).as("IP header checksum verifies").isZero();
                assertThat(echo.get(icmp) & 0xff).as("ICMP type echo reply").isZero();
                assertThat(echo.getShort(icmp + 4) & 0xffff).as("ICMP id").isEqualTo(0x4d2);
                assertThat(echo.getShort(icmp + 6) & 0xffff).as("ICMP seq").isEqualTo(7);
                assertThat(Frames.checksum(echo, icmp, ipLen - ihl)).as("ICMP checksum verifies").isZero();
                assertThat(Frames.bytes(echo, icmp + 8, payload.length)).as("payload").isEqualTo(payload);
                assertThat(tap.counters().txFrames()).isGreaterThanOrEqualTo(2);
                assertThat(tap.counters().rxFrames()).isGreaterThanOrEqualTo(2);
            }
            assertThat(ns.exec("ip", "link", "show", "dev", name).exit()).as("closing the tap removes it").isNotZero();
        }
    }

    /** Receives until a frame matches, answering the kernel's ARP questions about the guest meanwhile. */
    private static ByteBuffer awaitFrame(TapBackend tap, Predicate<ByteBuffer> wanted) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(TapBackend.MAX_FRAME);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            buf.clear();
            int n = tap.receive(buf, 1000);
            assertThat(n).as("receive while the tap is open").isNotNegative();
            if (n == 0) {
                continue;
            }
            assertThat(buf.position()).as("position advanced by the frame length").isEqualTo(n);
            buf.flip();
            if (wanted.test(buf)) {
                return buf;
            }
            if (Frames.ethertype(buf) == Frames.ETHERTYPE_ARP && buf.getShort(20) == 1
                    && java.util.Arrays.equals(Frames.bytes(buf, 38, 4), GUEST_IP)) {
                tap.send(Frames.arpReply(GUEST_MAC, GUEST_IP, Frames.bytes(buf, 22, 6), Frames.bytes(buf, 28, 4)));
            }
        }
        throw new AssertionError("no matching frame within " + WAIT + "; counters " + tap.counters());
    }

    @Test
    void closeWakesABlockedReceiveWhichReturnsMinusOne() throws Exception {
        try (NetNs ns = NetNs.create("close")) {
            ns.disableIpv6();
            TapBackend tap = openIn(ns, tapName('c'));
            AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
            Thread receiver = Thread.ofPlatform().name("blocked-receiver").start(() -> {
                try {
                    result.set(tap.receive(ByteBuffer.allocateDirect(2048), 600_000));
                } catch (IOException e) {
                    result.set(Integer.MIN_VALUE + 1);
                }
            });
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!inPoll(receiver)) {
                assertThat(receiver.isAlive()).as("receiver still waiting (result %d)", result.get()).isTrue();
                assertThat(System.nanoTime()).as("receiver reaches poll(2)").isLessThan(deadline);
                Thread.sleep(5);
            }
            assertThat(receiver.isAlive()).isTrue();
            tap.close();
            receiver.join(WAIT.toMillis());
            assertThat(receiver.isAlive()).as("receive returned after close").isFalse();
            assertThat(result.get()).isEqualTo(-1);
            assertThat(tap.receive(ByteBuffer.allocate(64), 1000)).as("receive after close").isEqualTo(-1);
            tap.close();
            assertThat(tap.isClosed()).isTrue();
            assertThatThrownBy(() -> tap.send(Frames.testFrame(GUEST_MAC, GUEST_MAC, 1, 64)))
                    .isInstanceOf(IOException.class).hasMessageContaining("closed");
        }
    }

    private static boolean inPoll(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals(Libc.class.getName()) && e.getMethodName().startsWith("poll")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void thousandFramesEachWayOverABridgeArriveInOrderWithoutLoss() throws Exception {
        try (NetNs ns = NetNs.create("bulk")) {
            ns.disableIpv6();
            ns.addBridge("br0");
            try (TapBackend a = openIn(ns, tapName('p')); TapBackend b = openIn(ns, tapName('q'))) {
                ns.attach(a.name(), "br0");
                ns.attach(b.name(), "br0");
                byte[] macA = Frames.mac("52:54:00:00:00:0a");
                byte[] macB = Frames.mac("52:54:00:00:00:0b");
                int frames = 1000;
                // One platform thread each: the common pool has a single worker on this 2-core machine.
                ExecutorService pool = Executors.newFixedThreadPool(4);
                CompletableFuture<long[]> aToB = CompletableFuture.supplyAsync(() -> collect(b, frames), pool);
                CompletableFuture<long[]> bToA = CompletableFuture.supplyAsync(() -> collect(a, frames), pool);
                CompletableFuture<Void> sendA = CompletableFuture.runAsync(() -> pump(a, macA, macB, frames, b), pool);
                CompletableFuture<Void> sendB = CompletableFuture.runAsync(() -> pump(b, macB, macA, frames, a), pool);
                pool.shutdown();
                long[] gotB = aToB.get(WAIT.toSeconds() * 2, TimeUnit.SECONDS);
                long[] gotA = bToA.get(WAIT.toSeconds() * 2, TimeUnit.SECONDS);
                sendA.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                sendB.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                for (int i = 0; i < frames; i++) {
                    assertThat(gotB[i]).as("frame %d a->b", i).isEqualTo(i);
                    assertThat(gotA[i]).as("frame %d b->a", i).isEqualTo(i);
                }
                assertThat(a.counters().txDropped()).isZero();
                assertThat(b.counters().txDropped()).isZero();
                assertThat(a.counters().txFrames()).isEqualTo(frames);
                assertThat(b.counters().rxDropped()).isZero();
            }
        }
    }

    @Test
    void receivePathAllocatesNothingPerFrame() throws Exception {
        try (NetNs ns = NetNs.create("alloc")) {
            ns.disableIpv6();
            ns.addBridge("br0");
            try (TapBackend a = openIn(ns, tapName('m')); TapBackend b = openIn(ns, tapName('n'))) {
                ns.attach(a.name(), "br0");
                ns.attach(b.name(), "br0");
                byte[] macA = Frames.mac("52:54:00:00:04:0a");
                byte[] macB = Frames.mac("52:54:00:00:04:0b");
                int warmup = 20_000;
                int measured = 10_000;
                long[] allocated = new long[2];
                ExecutorService pool = Executors.newFixedThreadPool(2);
                CompletableFuture<Void> rx = CompletableFuture.runAsync(() -> {
                    com.sun.management.ThreadMXBean mx =
                            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
                    ByteBuffer buf = ByteBuffer.allocateDirect(TapBackend.MAX_FRAME);
                    long deadline = System.nanoTime() + 4 * WAIT.toNanos();
                    int got = 0;
                    try {
                        while (got < warmup + measured) {
                            if (got == warmup) {
                                allocated[0] = mx.getCurrentThreadAllocatedBytes();
                            }
                            if (System.nanoTime() > deadline) {
                                throw new AssertionError("received " + got + "; " + b.counters());
                            }
                            if (b.receive(buf.clear(), 1000) > 0 && Frames.testSeq(buf.flip()) >= 0) {
                                got++;
                            }
                        }
                        allocated[1] = mx.getCurrentThreadAllocatedBytes();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, pool);
                CompletableFuture<Void> tx = CompletableFuture.runAsync(
                        () -> pump(a, macA, macB, warmup + measured, b), pool);
                pool.shutdown();
                rx.get(WAIT.toSeconds() * 4, TimeUnit.SECONDS);
                tx.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                // Any object per frame (a segment or buffer wrapper is >= 16 bytes) would show as >= 16 B/frame;
                // the bound leaves room for rare JIT or runtime allocations on the thread.
                double perFrame = (double) (allocated[1] - allocated[0]) / measured;
                assertThat(perFrame).as("heap bytes allocated per received frame").isLessThan(4.0);
            }
        }
    }

    /** Sends {@code n} test frames of varying size, keeping at most 64 unreceived by {@code peer}. */
    private static void pump(TapBackend tap, byte[] src, byte[] dst, int n, TapBackend peer) {
        ByteBuffer f = ByteBuffer.allocateDirect(1514);
        long deadline = System.nanoTime() + 4 * WAIT.toNanos();
        try {
            for (int i = 0; i < n; i++) {
                while (i - peer.counters().rxFrames() >= 64) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("peer stopped receiving at " + peer.counters());
                    }
                    Thread.onSpinWait();
                }
                f.clear();
                Frames.writeTestFrame(f, src, dst, i, 60 + (i * 37) % 1454);
                f.flip();
                tap.send(f);
                assertThat(f.hasRemaining()).as("send consumes the frame").isFalse();
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Receives {@code n} test frames (ignoring any other kind) and returns their sequence numbers in order. */
    private static long[] collect(TapBackend tap, int n) {
        long[] seqs = new long[n];
        ByteBuffer buf = ByteBuffer.allocate(TapBackend.MAX_FRAME);
        long deadline = System.nanoTime() + WAIT.toNanos();
        int got = 0;
        try {
            while (got < n) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("received " + got + " of " + n + " frames; " + tap.counters());
                }
                buf.clear();
                int len = tap.receive(buf, 1000);
                if (len <= 0) {
                    continue;
                }
                buf.flip();
                long seq = Frames.testSeq(buf);
                if (seq >= 0) {
                    seqs[got++] = seq;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return seqs;
    }

    @Test
    void framesTheTapCannotCarryAreDroppedAndCountedNotThrown() throws Exception {
        try (NetNs ns = NetNs.create("drop")) {
            ns.disableIpv6();
            ns.addBridge("br0");
            try (TapBackend a = openIn(ns, tapName('s')); TapBackend b = openIn(ns, tapName('t'))) {
                ns.attach(a.name(), "br0");
                ns.attach(b.name(), "br0");
                byte[] macA = Frames.mac("52:54:00:00:01:0a");
                byte[] macB = Frames.mac("52:54:00:00:01:0b");
                a.send(ByteBuffer.allocate(5));
                a.send(ByteBuffer.allocate(TapBackend.MAX_FRAME + 1));
                assertThat(a.counters().txDropped()).isEqualTo(2);
                assertThat(a.counters().txFrames()).isZero();

                // A frame larger than the receive buffer is dropped (and counted); the next one that fits arrives.
                // Other frames the kernel may emit meanwhile (all under 200 bytes) fit and are skipped.
                long rxBefore = b.counters().rxFrames();
                a.send(Frames.testFrame(macA, macB, 1, 400));
                ByteBuffer small = ByteBuffer.allocate(200);
                long deadline = System.nanoTime() + WAIT.toNanos();
                long others = 0;
                while (b.counters().rxDropped() == 0) {
                    assertThat(System.nanoTime()).as("oversize frame dropped").isLessThan(deadline);
                    if (b.receive(small.clear(), 200) > 0) {
                        assertThat(Frames.testSeq(small.flip())).as("no truncated delivery of the 400-byte frame")
                                .isEqualTo(-1);
                        others++;
                        System.out.println("event=other-frame bytes=" + small.remaining() + " hex="
                                + java.util.HexFormat.of().formatHex(Frames.bytes(small, 0, small.remaining())));
                    }
                }
                a.send(Frames.testFrame(macA, macB, 2, 190));
                long seq = -1;
                int n = 0;
                while (seq < 0) {
                    assertThat(System.nanoTime()).as("fitting frame arrives").isLessThan(deadline);
                    n = b.receive(small.clear(), 1000);
                    if (n > 0) {
                        seq = Frames.testSeq(small.flip());
                        others += seq < 0 ? 1 : 0;
                    }
                }
                assertThat(n).isEqualTo(190);
                assertThat(seq).isEqualTo(2);
                assertThat(b.counters().rxDropped()).isEqualTo(1);
                assertThat(b.counters().rxFrames() - rxBefore - others).isEqualTo(1);
                assertThatThrownBy(() -> b.receive(small, -1)).isInstanceOf(IllegalArgumentException.class);
            }
        }
    }

    @Test
    void jumboFramesCrossTheBridgeWhole() throws Exception {
        try (NetNs ns = NetNs.create("jumbo")) {
            ns.disableIpv6();
            ns.addBridge("br0");
            try (TapBackend a = openIn(ns, tapName('j')); TapBackend b = openIn(ns, tapName('k'))) {
                for (String link : new String[] {a.name(), b.name(), "br0"}) {
                    ns.ip("link", "set", "dev", link, "mtu", "9000");
                }
                ns.attach(a.name(), "br0");
                ns.attach(b.name(), "br0");
                byte[] macA = Frames.mac("52:54:00:00:03:0a");
                byte[] macB = Frames.mac("52:54:00:00:03:0b");
                a.send(Frames.testFrame(macA, macB, 42, 9014));
                ByteBuffer in = ByteBuffer.allocateDirect(TapBackend.MAX_FRAME);
                long deadline = System.nanoTime() + WAIT.toNanos();
                int n = 0;
                while (n <= 0 || Frames.testSeq(in.flip()) < 0) {
                    assertThat(System.nanoTime()).as("jumbo frame arrives").isLessThan(deadline);
                    in.clear();
                    n = b.receive(in, 1000);
                }
                assertThat(n).isEqualTo(9014);
                assertThat(Frames.testSeq(in)).as("sequence and every payload byte intact").isEqualTo(42);
            }
        }
    }

    @Test
    void aTapDeletedUnderTheBackendFailsClearlyInsteadOfHanging() throws Exception {
        try (NetNs ns = NetNs.create("del")) {
            ns.disableIpv6();
            String name = tapName('d');
            try (TapBackend tap = openIn(ns, name)) {
                ns.ip("link", "del", "dev", name);
                assertThatThrownBy(() -> tap.receive(ByteBuffer.allocate(2048), 60_000))
                        .isInstanceOf(IOException.class)
                        .hasMessage("read from tap " + name + ": File descriptor in bad state (EBADFD)");
                assertThatThrownBy(() -> tap.send(Frames.testFrame(GUEST_MAC, GUEST_MAC, 1, 64)))
                        .isInstanceOf(IOException.class)
                        .hasMessage("write to tap " + name + ": File descriptor in bad state (EBADFD)");
            }
        }
    }

    @Test
    void receiveWithZeroTimeoutReturnsAtOnceWhenNothingIsQueued() throws Exception {
        try (NetNs ns = NetNs.create("zero")) {
            ns.disableIpv6();
            try (TapBackend tap = openIn(ns, tapName('z'))) {
                assertThat(tap.receive(ByteBuffer.allocate(2048), 0)).isZero();
            }
        }
    }

    static <T> T await(CompletableFuture<T> f) throws InterruptedException, ExecutionException, TimeoutException {
        return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
}
