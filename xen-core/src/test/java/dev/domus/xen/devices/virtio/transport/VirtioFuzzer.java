// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import dev.domus.xen.devices.virtio.blk.BlkDevice;
import dev.domus.xen.devices.virtio.console.ConsoleDevice;
import dev.domus.xen.devices.virtio.net.MemoryNetBackend;
import dev.domus.xen.devices.virtio.net.NetDevice;
import dev.domus.xen.devices.virtio.rng.RngDevice;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Hostile-guest fuzzer: drives every virtio device model through its real transport with random, mostly malformed
 * queue setups, descriptor chains (addresses in, at the edge of and outside RAM, wrap-around, loops, zero and huge
 * lengths, wrong direction flags, nested and bogus indirect tables), available-index jumps, register and
 * configuration accesses. Checked after every case: nothing escaped the MMIO entry points, the transport
 * contained no internal error (an out-of-bounds access would be one: guest RAM is a bounded segment), used-ring
 * entries never claim more bytes than the chain's writable part, and the read-only image is unchanged.
 * Run by {@code VirtioFuzzTest}; {@link #main} runs more cases.
 */
public final class VirtioFuzzer {
    private static final long RAM_END = TestDriver.RAM_BASE + TestDriver.RAM_SIZE;

    /** Outcome counts of a run. */
    public record Stats(long cases, long completed, long needsReset, long chains) { }

    private final SplittableRandom rnd;
    private final Path dir;
    private long completed;
    private long resets;
    private long chains;

    public VirtioFuzzer(long seed, Path dir) {
        this.rnd = new SplittableRandom(seed);
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        long cases = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : System.nanoTime();
        Path dir = Files.createTempDirectory("virtio-fuzz");
        long t0 = System.nanoTime();
        Stats s = new VirtioFuzzer(seed, dir).run(cases);
        System.out.printf("virtio-fuzz seed=%d cases=%d completed=%d needs_reset=%d chains=%d seconds=%.1f%n",
                seed, s.cases(), s.completed(), s.needsReset(), s.chains(), (System.nanoTime() - t0) / 1e9);
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    /** Runs {@code cases} cases spread over the device models; throws AssertionError on the first violation. */
    public Stats run(long cases) throws IOException {
        Path rwImg = dir.resolve("rw.img");
        Path roImg = dir.resolve("ro.img");
        for (Path p : new Path[] {rwImg, roImg}) {
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(256 * 1024);
            }
        }
        byte[] ro = new byte[256 * 1024];
        Arrays.fill(ro, (byte) 0xa5);
        Files.write(roImg, ro);
        byte[] roHash = sha(roImg);
        MemoryNetBackend net = new MemoryNetBackend();
        TestDriver[] drivers = {
            new TestDriver(BlkDevice.open("vda", rwImg, false)),
            new TestDriver(BlkDevice.open("vdb", roImg, true)),
            new TestDriver(new RngDevice()),
            new TestDriver(new ConsoleDevice(b -> { })),
            new TestDriver(new NetDevice(new byte[] {2, 0, 0, 0, 0, 1}, net)),
        };
        try {
            for (long i = 0; i < cases; i++) {
                TestDriver d = drivers[(int) (i % drivers.length)];
                if (d.mmio.device() instanceof NetDevice && rnd.nextInt(4) == 0) {
                    byte[] f = new byte[rnd.nextInt(2000)];
                    rnd.nextBytes(f);
                    net.toGuest.offer(f);
                }
                if (d.mmio.device() instanceof ConsoleDevice cd && rnd.nextInt(4) == 0) {
                    cd.receive(new byte[] {'x', 'y'}, 0, 2);
                }
                oneCase(d, i);
            }
        } finally {
            for (TestDriver d : drivers) {
                d.close();
            }
        }
        if (!Arrays.equals(sha(roImg), roHash)) {
            throw new AssertionError("read-only image changed");
        }
        return new Stats(cases, completed, resets, chains);
    }

    private void oneCase(TestDriver d, long caseNo) {
        int max = d.mmio.device().maxQueueSize();
        int size = switch (rnd.nextInt(8)) {
            case 0 -> rnd.nextInt(0, 70000);             // bogus sizes: zero, non-power-of-two, above the maximum
            case 1 -> max * 2;
            default -> 1 << rnd.nextInt(0, Integer.numberOfTrailingZeros(max) + 1);
        };
        long mask = rnd.nextInt(5) == 0 ? rnd.nextLong() : -1L;
        synchronized (d.mmio) {
            try {
                d.start(Math.max(size, 1) > 32768 ? 1 : size == 0 ? 1 : size, mask);
                if (rnd.nextInt(10) == 0) {
                    // Re-program a queue with random (often misaligned or out-of-RAM) ring addresses.
                    d.reg(VirtioMmio.R_QUEUE_READY, 0);
                    d.setupQueue(rnd.nextInt(d.mmio.device().queueCount()), size, addr(), addr(), addr());
                }
                int n = rnd.nextInt(1, 6);
                for (int c = 0; c < n && !d.needsReset(); c++) {
                    randomChain(d, Math.max(1, d.mmio.state().queues().get(0).size()));
                }
                if (rnd.nextInt(4) == 0) {
                    randomRegisters(d);
                }
                checkUsed(d);
                if (d.needsReset()) {
                    resets++;
                } else {
                    completed++;
                }
            } catch (RuntimeException e) {
                throw new AssertionError("case " + caseNo + " (" + d.mmio.device().name() + "): exception escaped the "
                        + "device: " + e, e);
            }
        }
        if (d.mmio.internalErrors() != 0) {
            throw new AssertionError("case " + caseNo + " (" + d.mmio.device().name()
                    + "): the transport contained an internal error (see log)");
        }
    }

    /** A guest-physical address: mostly valid, often at the edges, sometimes anywhere. */
    private long addr() {
        return switch (rnd.nextInt(8)) {
            case 0 -> rnd.nextLong();
            case 1 -> RAM_END - rnd.nextInt(0, 64);
            case 2 -> TestDriver.RAM_BASE - rnd.nextInt(1, 64);
            case 3 -> -rnd.nextInt(1, 4096);
            default -> TestDriver.DATA_BASE + rnd.nextInt(0, (int) (RAM_END - TestDriver.DATA_BASE));
        };
    }

    private int len() {
        return switch (rnd.nextInt(8)) {
            case 0 -> 0;
            case 1 -> -1 - rnd.nextInt(16);             // ~4 GiB
            case 2 -> rnd.nextInt();
            case 3 -> rnd.nextInt(1, 16);
            default -> rnd.nextInt(1, 4096);
        };
    }

    private int flags() {
        return rnd.nextInt(6) == 0 ? rnd.nextInt(0x10000) : rnd.nextInt(8);
    }

    private void randomChain(TestDriver d, int qsize) {
        int q = rnd.nextInt(d.mmio.device().queueCount() + (rnd.nextInt(10) == 0 ? 3 : 0));
        int qs = q < d.mmio.device().queueCount() ? qsize : 1;
        int count = rnd.nextInt(1, Math.min(qs, 8) + 1);
        int head = rnd.nextInt(qs);
        for (int k = 0; k < count; k++) {
            int idx = (head + k) % qs;
            int next = rnd.nextInt(5) == 0 ? rnd.nextInt(0x10000) : (idx + 1) % qs;
            int fl = flags();
            if (k == count - 1 && rnd.nextBoolean()) {
                fl &= ~Virtqueue.DESC_F_NEXT;
            }
            long a = addr();
            int l = len();
            if ((fl & Virtqueue.DESC_F_INDIRECT) != 0 && rnd.nextBoolean()) {
                // A real table with random contents (sometimes nested indirect or looping).
                int entries = rnd.nextInt(1, 12);
                a = d.alloc(16 * entries);
                l = rnd.nextInt(4) == 0 ? len() : 16 * entries;
                for (int e = 0; e < entries; e++) {
                    long t = a - TestDriver.RAM_BASE + 16L * e;
                    d.ram.storeLong(t, addr());
                    d.ram.storeInt(t + 8, len());
                    d.ram.storeShort(t + 12, (short) flags());
                    d.ram.storeShort(t + 14, (short) (rnd.nextInt(3) == 0 ? rnd.nextInt(0x10000) : e + 1));
                }
            } else if (rnd.nextInt(3) == 0 && d.mmio.device() instanceof BlkDevice && k == 0) {
                // A plausible block request header so the device gets past the first checks.
                a = d.alloc(16);
                l = 16;
                fl = Virtqueue.DESC_F_NEXT;
                long h = a - TestDriver.RAM_BASE;
                int[] types = {0, 1, 4, 8, 11, 13, rnd.nextInt()};
                d.ram.storeInt(h, types[rnd.nextInt(types.length)]);
                d.ram.storeLong(h + 8, rnd.nextBoolean() ? rnd.nextInt(600) : rnd.nextLong());
            }
            if (k == 0 && q == 1 && d.mmio.device() instanceof NetDevice && rnd.nextInt(3) == 0) {
                // A plausible offload request: random GSO/checksum fields in front of a TCP/IPv4-looking frame.
                int flen = rnd.nextInt(12 + 54, 12 + 66000);
                byte[] b = new byte[flen];
                rnd.nextBytes(b);
                b[1] = (byte) (rnd.nextBoolean() ? 1 : rnd.nextInt(256));
                b[12 + 12] = 0x08;
                b[12 + 13] = 0;
                b[12 + 14] = 0x45;
                b[12 + 23] = 6;
                a = d.alloc(flen);
                d.poke(a, b);
                l = flen;
                fl &= ~Virtqueue.DESC_F_WRITE & ~Virtqueue.DESC_F_INDIRECT;
            }
            if (q < d.mmio.device().queueCount()) {
                d.descriptor(q, idx, a, l, fl, next);
            }
        }
        if (q < d.mmio.device().queueCount()) {
            if (rnd.nextInt(20) == 0) {
                // Available index far ahead of what was posted.
                long ai = TestDriver.avail(q) - TestDriver.RAM_BASE + 2;
                d.ram.storeShort(ai, (short) (d.ram.loadShort(ai) + rnd.nextInt(1, 0x10000)));
            } else {
                d.makeAvailable(q, rnd.nextInt(10) == 0 ? rnd.nextInt(0x10000) : head);
            }
        }
        chains++;
        d.notifyQueue(q);
    }

    private void randomRegisters(TestDriver d) {
        for (int i = 0; i < 4; i++) {
            int off = rnd.nextInt(0x200) & ~3;
            int width = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
            if (rnd.nextBoolean()) {
                d.mmio.read(off, width);
            } else if (off != VirtioMmio.R_STATUS || rnd.nextInt(4) == 0) {
                d.mmio.write(off, width, rnd.nextLong());
            }
        }
    }

    /** Every used element must name a head inside the queue and claim no more than the queue could hold. */
    private static void checkUsed(TestDriver d) {
        for (QueueState q : d.mmio.state().queues()) {
            if (q.size() <= 0 || !d.ram.containsRange(q.used(), 6L + 8L * q.size())) {
                continue;
            }
            int n = Math.min(q.usedIdx(), q.size());
            for (int i = 0; i < n; i++) {
                long e = q.used() - TestDriver.RAM_BASE + 4 + 8L * i;
                int id = d.ram.loadInt(e);
                int len = d.ram.loadInt(e + 4);
                if (id < 0 || id >= q.size() || Integer.toUnsignedLong(len) > Virtqueue.MAX_CHAIN_BYTES) {
                    throw new AssertionError("used element " + i + " = {id " + id + ", len " + len + "} is bogus");
                }
            }
        }
    }

    private static byte[] sha(Path p) throws IOException {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
