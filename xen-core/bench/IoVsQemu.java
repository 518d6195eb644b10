// SPDX-License-Identifier: Apache-2.0

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * virtio-blk and virtio-net throughput of xen-core against QEMU TCG with the same guest, alternating. Disk phases
 * are timed from the host by console markers; the network transfer by the host-side receiver (first byte to the
 * last of 64 MiB). Launched inside a network namespace by xen-core/bench/io-vs-qemu.
 */
public final class IoVsQemu {
    static final long DISK_MIB = 256;
    static final long NET_BYTES = 64L << 20;
    static final int PORT = 5001;
    private static final String WORKLOAD = String.join("\n",
            "D=/dev/vda",
            "echo BENCH w-start",
            "dd if=/dev/zero of=$D bs=1M count=" + DISK_MIB + " oflag=direct 2>&1 | tail -1",
            "sync; echo BENCH w-end",
            "echo 3 > /proc/sys/vm/drop_caches",
            "echo BENCH r-start",
            "dd if=$D of=/dev/null bs=1M count=" + DISK_MIB + " iflag=direct 2>&1 | tail -1",
            "echo BENCH r-end",
            "echo BENCH n-start",
            "dd if=/dev/zero bs=64k count=" + (NET_BYTES >> 16) + " 2>/dev/null | nc 10.88.0.1 " + PORT,
            "echo BENCH n-end", "");

    record Run(double writeS, double readS, double netS) { }

    public static void main(String[] args) throws Exception {
        Path guest = Path.of(args[0]);
        String jar = args[1];
        int rounds = Integer.parseInt(args[2]);
        Path work = Path.of(args[3]);
        String cmd = "console=ttyS0 domus.ip=10.88.0.2/24 domus.run64=" + Base64.getEncoder().encodeToString(
                WORKLOAD.getBytes(StandardCharsets.UTF_8));
        String image = guest.resolve("Image").toString();
        String initrd = guest.resolve("initramfs.cpio.gz").toString();
        Path disk = work.resolve("data.img");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String mac = "52:54:00:88:00:02";
        List<String> xen = List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", jar, "dev.domus.xen.cli.Boot",
                "--kernel", image, "--initrd", initrd, "--memory", "512", "--vcpus", "1", "--append", cmd,
                "--disk", disk + ",rw,vda", "--vif", mac + ",xtap0,br0");
        List<String> qemu = List.of("qemu-system-riscv64", "-M", "virt", "-m", "512", "-smp", "1", "-nographic",
                "-bios", "default", "-kernel", image, "-initrd", initrd, "-append", cmd,
                "-drive", "file=" + disk + ",format=raw,if=none,id=hd0",
                "-device", "virtio-blk-device,drive=hd0",
                "-netdev", "tap,id=n0,ifname=qtap0,script=no,downscript=no",
                "-device", "virtio-net-device,netdev=n0,mac=" + mac);
        List<Run> xr = new ArrayList<>();
        List<Run> qr = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            Run q = run("qemu", qemu, disk, "qtap0");
            Run x = run("xen-core", xen, disk, null);
            qr.add(q);
            xr.add(x);
            System.out.printf("round %d: xen-core write %.2fs read %.2fs net %.2fs | qemu write %.2fs read %.2fs net %.2fs%n",
                    r, x.writeS, x.readS, x.netS, q.writeS, q.readS, q.netS);
        }
        System.out.println();
        System.out.printf("%-34s %12s %12s %8s%n", "median over " + rounds + " rounds", "xen-core", "qemu-tcg",
                "ratio");
        row("dd write 256 MiB O_DIRECT (MiB/s)", xr.stream().mapToDouble(x -> DISK_MIB / x.writeS).toArray(),
                qr.stream().mapToDouble(x -> DISK_MIB / x.writeS).toArray());
        row("dd read 256 MiB O_DIRECT (MiB/s)", xr.stream().mapToDouble(x -> DISK_MIB / x.readS).toArray(),
                qr.stream().mapToDouble(x -> DISK_MIB / x.readS).toArray());
        row("TCP guest->host 64 MiB (MiB/s)", xr.stream().mapToDouble(x -> 64 / x.netS).toArray(),
                qr.stream().mapToDouble(x -> 64 / x.netS).toArray());
        System.out.println("(ratio = xen-core / QEMU throughput; > 1 means xen-core is faster)");
    }

    private static void row(String name, double[] x, double[] q) {
        double mx = median(x);
        double mq = median(q);
        System.out.printf("%-34s %12.2f %12.2f %8.2f%n", name, mx, mq, mx / mq);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** One guest run on a fresh sparse disk image; QEMU's tap ({@code attachTap}) is put on the bridge once it exists. */
    private static Run run(String name, List<String> command, Path disk, String attachTap) throws Exception {
        Files.deleteIfExists(disk);
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength((DISK_MIB + 16) << 20);
        }
        AtomicLong netNanos = new AtomicLong(-1);
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName("10.88.0.1"), PORT));
        Thread sink = Thread.ofPlatform().daemon().start(() -> {
            try (server; Socket s = server.accept(); InputStream in = s.getInputStream()) {
                byte[] buf = new byte[1 << 16];
                long got = 0;
                long t0 = 0;
                for (int n; got < NET_BYTES && (n = in.read(buf)) > 0; ) {
                    if (got == 0) {
                        t0 = System.nanoTime();
                    }
                    got += n;
                }
                if (got >= NET_BYTES) {
                    netNanos.set(System.nanoTime() - t0);
                }
            } catch (Exception e) {
                System.err.println(name + ": receiver: " + e);
            }
        });
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (attachTap != null) {
            Thread.ofPlatform().daemon().start(() -> attachWhenPresent(attachTap));
        }
        Map<String, Long> marks = new HashMap<>();
        StringBuilder tail = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                long now = System.nanoTime();
                if (line.startsWith("BENCH ")) {
                    marks.put(line.substring(6).trim(), now);
                } else if (line.contains("DOMUS-RUN-EXIT=")) {
                    break;
                }
                tail.append(line).append('\n');
                if (tail.length() > 8000) {
                    tail.delete(0, tail.length() - 4000);
                }
            }
        } finally {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            server.close();
            sink.join(10_000);
        }
        for (String k : List.of("w-start", "w-end", "r-start", "r-end", "n-start", "n-end")) {
            if (!marks.containsKey(k)) {
                throw new IllegalStateException(name + ": marker " + k + " never appeared; console tail:\n" + tail);
            }
        }
        if (netNanos.get() < 0) {
            throw new IllegalStateException(name + ": the host did not receive " + NET_BYTES + " bytes; console tail:\n"
                    + tail);
        }
        System.out.print(name + " dd: " + tail.toString().lines().filter(l -> l.contains("copied")).toList() + "\n");
        return new Run((marks.get("w-end") - marks.get("w-start")) / 1e9,
                (marks.get("r-end") - marks.get("r-start")) / 1e9, netNanos.get() / 1e9);
    }

    private static void attachWhenPresent(String tap) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            try {
                Process p = new ProcessBuilder("ip", "link", "set", "dev", tap, "master", "br0", "up")
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() == 0) {
                    return;
                }
                Thread.sleep(100);
            } catch (Exception e) {
                return;
            }
        }
    }
}
