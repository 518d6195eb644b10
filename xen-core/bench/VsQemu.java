// SPDX-License-Identifier: Apache-2.0

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the same guest workload under xen-core and QEMU TCG, alternately, and times it from the host by when marker
 * lines appear on the guest console (so guest clock quality does not matter). Launched by xen-core/bench/vs-qemu.
 */
public final class VsQemu {
    private static final String WORKLOAD = String.join("\n",
            "n=$((67108864 / $(stat -c %s /bin/busybox) + 1)); : > /tmp/d",
            "while [ $n -gt 0 ]; do cat /bin/busybox >> /tmp/d; n=$((n-1)); done",
            "head -c 67108864 /tmp/d > /tmp/d64; head -c 33554432 /tmp/d > /tmp/d32; rm /tmp/d",
            "echo BENCH sha-start", "sha256sum /tmp/d64", "echo BENCH sha-end",
            "echo BENCH gzip-start", "gzip -6 -c /tmp/d32 > /dev/null", "echo BENCH gzip-end", "");

    record Run(double readyS, double shaS, double gzipS) { }

    /** "boot": only boot to the ready marker (the guest then runs {@code true} and powers off). */
    private static boolean bootOnly;

    public static void main(String[] args) throws Exception {
        Path guest = Path.of(args[0]);
        String jar = args[1];
        int rounds = Integer.parseInt(args[2]);
        bootOnly = args.length > 4 && args[4].equals("boot");
        String cmd = "console=ttyS0 domus.run64=" + Base64.getEncoder().encodeToString(
                (bootOnly ? "true\n" : WORKLOAD).getBytes(StandardCharsets.UTF_8));
        String image = guest.resolve("Image").toString();
        String initrd = guest.resolve("initramfs.cpio.gz").toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Domain runners start with a JDK AOT cache recorded by an earlier run (DomainLauncher); do the same here:
        // one unmeasured training boot records it, the measured runs use it.
        Path aot = Path.of(jar).toAbsolutePath().resolveSibling("bench.aot");
        Files.deleteIfExists(aot);
        String ready = "console=ttyS0 domus.run64=" + Base64.getEncoder().encodeToString("true\n".getBytes(StandardCharsets.UTF_8));
        // The JVM options of a domain runner (DomainLauncher), so the figures are the product's.
        List<String> jvm = new ArrayList<>(dev.domus.xen.domain.DomainLauncher.runnerJvmOptions());
        // Extra runner options, as domain runners take them (A/B of JIT switches, e.g. -Ddomus.jit.background=false).
        String extra = System.getenv().getOrDefault(dev.domus.xen.domain.DomainLauncher.JAVA_OPTS_ENV, "").strip();
        if (!extra.isEmpty()) {
            jvm.addAll(List.of(extra.split("\\s+")));
            System.out.println("extra runner options: " + extra);
        }
        List<String> trainCmd = new ArrayList<>(List.of(java, "-XX:AOTCacheOutput=" + aot));
        trainCmd.addAll(jvm);
        trainCmd.addAll(List.of("-cp", jar, "dev.domus.xen.cli.Boot", "--kernel", image, "--initrd", initrd,
                "--append", ready));
        Process train = new ProcessBuilder(trainCmd)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        train.waitFor(300, TimeUnit.SECONDS);
        System.out.println("AOT cache for xen-core: " + (Files.isRegularFile(aot) ? aot : "not recorded (runs without)"));
        // xen-core CPU engines to compare (each against the same QEMU runs): "jit,interpreter" by default.
        List<String> engines = List.of((args.length > 3 ? args[3] : "jit,interpreter").split(","));
        Map<String, List<String>> xen = new java.util.LinkedHashMap<>();
        for (String engine : engines) {
            List<String> c = new ArrayList<>(List.of(java, "-Ddomus.cpu.engine=" + engine));
            c.addAll(jvm);
            if (Files.isRegularFile(aot)) {
                c.add("-XX:AOTCache=" + aot);
            }
            c.addAll(List.of("-cp", jar, "dev.domus.xen.cli.Boot",
                    "--kernel", image, "--initrd", initrd, "--memory", "512", "--vcpus", "1", "--append", cmd));
            xen.put(engine, c);
        }
        List<String> qemu = List.of("qemu-system-riscv64", "-M", "virt", "-m", "512", "-smp", "1", "-nographic",
                "-bios", "default", "-kernel", image, "-initrd", initrd, "-append", cmd);
        Map<String, List<Run>> xr = new java.util.LinkedHashMap<>();
        List<Run> qr = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            Run q = run("qemu", qemu);
            qr.add(q);
            System.out.printf("round %d: qemu ready %.2fs sha %.2fs gzip %.2fs (load average %s)%n", r, q.readyS, q.shaS,
                    q.gzipS, loadAverage());
            for (var e : xen.entrySet()) {
                Run x = run("xen-core/" + e.getKey(), e.getValue());
                xr.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(x);
                System.out.printf("round %d: xen-core %s ready %.2fs sha %.2fs gzip %.2fs (load average %s)%n",
                        r, e.getKey(), x.readyS, x.shaS, x.gzipS, loadAverage());
            }
        }
        for (var e : xr.entrySet()) {
            List<Run> x = e.getValue();
            System.out.println();
            System.out.printf("%-28s %12s %12s %8s%n", "median over " + rounds + " rounds", "xen/" + e.getKey(),
                    "qemu-tcg", "ratio");
            row("boot to ready marker (s)", x.stream().mapToDouble(Run::readyS).toArray(),
                    qr.stream().mapToDouble(Run::readyS).toArray());
            if (bootOnly) {
                continue;
            }
            row("sha256sum 64 MiB (s)", x.stream().mapToDouble(Run::shaS).toArray(),
                    qr.stream().mapToDouble(Run::shaS).toArray());
            row("gzip -6 32 MiB (s)", x.stream().mapToDouble(Run::gzipS).toArray(),
                    qr.stream().mapToDouble(Run::gzipS).toArray());
        }
        if (bootOnly) {
            return;
        }
        idle(java, jvm, Files.isRegularFile(aot) ? List.of("-XX:AOTCache=" + aot) : List.of(), jar, image, initrd,
                engines.get(0));
    }

    private static void row(String name, double[] x, double[] q) {
        double mx = median(x);
        double mq = median(q);
        System.out.printf("%-28s %12.2f %12.2f %8.2f%n", name, mx, mq, mx / mq);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static Run run(String name, List<String> command) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        Map<String, Long> marks = new HashMap<>();
        StringBuilder tail = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                long now = System.nanoTime();
                if (line.contains("DOMUS-GUEST-READY")) {
                    marks.putIfAbsent("ready", now);
                } else if (line.startsWith("BENCH ")) {
                    marks.put(line.substring(6).trim(), now);
                } else if (line.contains("DOMUS-RUN-EXIT=")) {
                    marks.put("exit", now);
                    break;
                }
                tail.append(line).append('\n');
                if (tail.length() > 8000) {
                    tail.delete(0, tail.length() - 4000);
                }
            }
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        for (String k : bootOnly ? List.of("ready") : List.of("ready", "sha-start", "sha-end", "gzip-start", "gzip-end")) {
            if (!marks.containsKey(k)) {
                throw new IllegalStateException(name + ": marker " + k + " never appeared; console tail:\n" + tail);
            }
        }
        if (bootOnly) {
            return new Run((marks.get("ready") - t0) / 1e9, 0, 0);
        }
        return new Run((marks.get("ready") - t0) / 1e9, (marks.get("sha-end") - marks.get("sha-start")) / 1e9,
                (marks.get("gzip-end") - marks.get("gzip-start")) / 1e9);
    }

    /** Host RSS and CPU use of an idle xen-core domain (guest sleeping in its shell). */
    private static void idle(String java, List<String> jvm, List<String> aot, String jar, String image, String initrd,
                             String engine) throws Exception {
        String script = "echo BENCH idle-start; sleep 12; echo BENCH idle-end\n";
        String cmd = "console=ttyS0 domus.run64=" + Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        List<String> c = new ArrayList<>(List.of(java, "-Ddomus.cpu.engine=" + engine));
        c.addAll(jvm);
        c.addAll(aot);
        c.addAll(List.of("-cp", jar, "dev.domus.xen.cli.Boot",
                "--kernel", image, "--initrd", initrd, "--memory", "256", "--append", cmd));
        Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("BENCH idle-start")) {
                    break;
                }
            }
            Thread.sleep(3000);
            long c0 = cpuTicks(p.pid());
            long w0 = System.nanoTime();
            Thread.sleep(6000);
            long c1 = cpuTicks(p.pid());
            double wall = (System.nanoTime() - w0) / 1e9;
            long rssKb = rssKb(p.pid());
            System.out.printf("%nidle domain (" + engine + ", 256 MiB guest, 1 vCPU): host RSS %d MiB, host CPU %.1f%% of one core%n",
                    rssKb / 1024, 100.0 * (c1 - c0) / 100.0 / wall);
            for (String line; (line = r.readLine()) != null; ) {
                if (line.contains("DOMUS-RUN-EXIT")) {
                    break;
                }
            }
        } finally {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The 1-minute load average: the box is shared, so every figure is printed next to it. */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static long cpuTicks(long pid) throws IOException {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\) ", 2)[1].split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private static long rssKb(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
