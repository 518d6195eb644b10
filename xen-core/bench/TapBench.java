// SPDX-License-Identifier: Apache-2.0

import dev.domus.xen.devices.virtio.net.TapBackend;
import dev.domus.xen.testing.Frames;
import dev.domus.xen.testing.NetNs;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pushes frames through two {@link TapBackend}s joined by Linux bridges inside throw-away network namespaces and
 * prints what the host side of guest networking can carry: a stream from tap A to tap B per frame size (offered and
 * delivered frames/s, delivered MB/s), single-frame round trips (A -> B, echoed back by B), and heap bytes the
 * receiving and sending threads allocated per frame (the first size includes JIT warm-up left over). Topology 1: both taps on one bridge in one namespace. Topology 2: each tap
 * on a bridge in its own namespace, the bridges joined by a veth pair (two "hosts"); printed with its ratio to 1.
 * Launched by xen-core/bench/tap-bench.
 */
public final class TapBench {
    private static final byte[] MAC_A = Frames.mac("52:54:00:be:00:0a");
    private static final byte[] MAC_B = Frames.mac("52:54:00:be:00:0b");
    private static final int[] SIZES = {64, 512, 1514};

    record Stream(int size, double offeredFps, double deliveredFps, double deliveredMBps, double lossPct,
            double rxAllocPerFrame, double txAllocPerFrame) { }

    record Rtt(double medianUs, double p99Us, int samples) { }

    record Result(String topology, List<Stream> streams, Rtt rtt) { }

    public static void main(String[] args) throws Exception {
        int secs = Integer.parseInt(args[0]);
        long pid = ProcessHandle.current().pid() % 100_000;
        List<Result> results = new ArrayList<>();
        try (NetNs h = NetNs.create("bench")) {
            h.disableIpv6();
            h.addBridge("br0");
            try (TapBackend a = open(h, "tba" + pid); TapBackend b = open(h, "tbb" + pid)) {
                h.attach(a.name(), "br0");
                h.attach(b.name(), "br0");
                results.add(run("1: tap->br->tap (1 netns)", a, b, secs));
            }
        }
        try (NetNs h1 = NetNs.create("bench1"); NetNs h2 = NetNs.create("bench2")) {
            for (NetNs h : List.of(h1, h2)) {
                h.disableIpv6();
                h.addBridge("br0");
            }
            h1.vethTo("vx1", h2, "vx2");
            h1.attach("vx1", "br0");
            h2.attach("vx2", "br0");
            try (TapBackend a = open(h1, "tba" + pid); TapBackend b = open(h2, "tbb" + pid)) {
                h1.attach(a.name(), "br0");
                h2.attach(b.name(), "br0");
                results.add(run("2: tap->br->veth->br->tap (2 netns)", a, b, secs));
            }
        }
        print(results);
    }

    private static TapBackend open(NetNs ns, String name) throws Exception {
        TapBackend tap = TapBackend.open(name);
        ns.adoptLink(name);
        ByteBuffer sink = ByteBuffer.allocate(TapBackend.MAX_FRAME);
        while (tap.receive(sink.clear(), 0) > 0) {
            // frames queued while the tap was still in this namespace
        }
        return tap;
    }

    private static Result run(String topology, TapBackend a, TapBackend b, int secs) throws Exception {
        System.out.println("running " + topology + " ...");
        stream(a, b, 1514, 1); // warm-up: JIT, bridge FDB learning
        List<Stream> streams = new ArrayList<>();
        for (int size : SIZES) {
            streams.add(stream(a, b, size, secs));
        }
        rtt(a, b, 500);
        return new Result(topology, streams, rtt(a, b, 5000));
    }

    /** A sends as fast as it can for {@code secs}; B counts the test frames it receives. */
    private static Stream stream(TapBackend a, TapBackend b, int size, int secs) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong received = new AtomicLong();
        AtomicLong allocated = new AtomicLong();
        Thread rx = Thread.ofPlatform().name("bench-rx").start(() -> {
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            ByteBuffer buf = ByteBuffer.allocateDirect(TapBackend.MAX_FRAME);
            long n = 0;
            long alloc0 = mx.getCurrentThreadAllocatedBytes();
            try {
                long idleSince = 0;
                while (true) {
                    int len = b.receive(buf.clear(), 50);
                    if (len > 0) {
                        if (Frames.ethertype(buf.flip()) == Frames.ETHERTYPE_TEST) {
                            n++;
                        }
                        idleSince = 0;
                    } else if (stop.get()) {
                        // Sender done: stop once nothing arrived for 200 ms (the queue has drained).
                        long now = System.nanoTime();
                        if (idleSince == 0) {
                            idleSince = now;
                        } else if (now - idleSince > 200_000_000L) {
                            break;
                        }
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            allocated.set(mx.getCurrentThreadAllocatedBytes() - alloc0);
            received.set(n);
        });
        ByteBuffer f = ByteBuffer.allocateDirect(size);
        Frames.writeTestFrame(f, MAC_A, MAC_B, 0, size);
        f.flip();
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long txAlloc0 = mx.getCurrentThreadAllocatedBytes();
        long t0 = System.nanoTime();
        long end = t0 + secs * 1_000_000_000L;
        long n = 0;
        while ((n & 255) != 0 || System.nanoTime() < end) {
            f.position(0);
            a.send(f);
            n++;
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        long txAlloc = mx.getCurrentThreadAllocatedBytes() - txAlloc0;
        stop.set(true);
        rx.join();
        double delivered = received.get() / elapsed;
        return new Stream(size, n / elapsed, delivered, delivered * size / 1e6,
                100.0 * (n - received.get()) / n, received.get() == 0 ? 0 : (double) allocated.get() / received.get(),
                (double) txAlloc / n);
    }

    /** {@code count} round trips of one 64-byte frame: A sends, B echoes it back, A waits for it. */
    private static Rtt rtt(TapBackend a, TapBackend b, int count) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread echo = Thread.ofPlatform().name("bench-echo").start(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(TapBackend.MAX_FRAME);
            try {
                while (!stop.get()) {
                    if (b.receive(buf.clear(), 50) > 0 && Frames.ethertype(buf.flip()) == Frames.ETHERTYPE_TEST) {
                        buf.put(0, MAC_A).put(6, MAC_B);
                        b.send(buf);
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        ByteBuffer out = ByteBuffer.allocateDirect(64);
        ByteBuffer in = ByteBuffer.allocateDirect(TapBackend.MAX_FRAME);
        long[] us = new long[count];
        int got = 0;
        for (int i = 0; i < count; i++) {
            out.clear();
            Frames.writeTestFrame(out, MAC_A, MAC_B, i, 64);
            long t0 = System.nanoTime();
            a.send(out.flip());
            while (true) {
                in.clear();
                int len = a.receive(in, 1000);
                if (len == 0) {
                    break; // lost: do not count it
                }
                if (Frames.testSeq(in.flip()) == i) {
                    us[got++] = (System.nanoTime() - t0) / 1000;
                    break;
                }
            }
        }
        stop.set(true);
        echo.join();
        long[] s = Arrays.copyOf(us, got);
        Arrays.sort(s);
        return new Rtt(got == 0 ? 0 : s[got / 2], got == 0 ? 0 : s[Math.min(got - 1, (int) (got * 0.99))], got);
    }

    private static void print(List<Result> results) {
        System.out.printf("%n%-38s %6s %12s %12s %10s %7s %9s %9s%n", "topology", "size", "offered f/s",
                "deliv. f/s", "deliv MB/s", "loss %", "rx B/frm", "tx B/frm");
        for (Result r : results) {
            for (Stream s : r.streams()) {
                System.out.printf("%-38s %6d %12.0f %12.0f %10.1f %7.1f %9.2f %9.2f%n", r.topology(), s.size(),
                        s.offeredFps(), s.deliveredFps(), s.deliveredMBps(), s.lossPct(), s.rxAllocPerFrame(),
                        s.txAllocPerFrame());
            }
        }
        System.out.printf("%n%-38s %10s %10s %8s%n", "topology", "RTT p50 us", "RTT p99 us", "samples");
        for (Result r : results) {
            System.out.printf("%-38s %10.0f %10.0f %8d%n", r.topology(), r.rtt().medianUs(), r.rtt().p99Us(),
                    r.rtt().samples());
        }
        if (results.size() == 2) {
            Result one = results.get(0);
            Result two = results.get(1);
            System.out.println();
            for (int i = 0; i < SIZES.length; i++) {
                System.out.printf("ratio 2/1 delivered f/s at %d bytes: %.2f%n", SIZES[i],
                        two.streams().get(i).deliveredFps() / one.streams().get(i).deliveredFps());
            }
            System.out.printf("ratio 2/1 RTT p50: %.2f%n", two.rtt().medianUs() / Math.max(1, one.rtt().medianUs()));
        }
    }
}
