// SPDX-License-Identifier: Apache-2.0
// A/B harness for CPU engine changes on a loaded box: boots one xen-core jar with VsQemu's workload (sizes as a
// parameter) and prints wall and CPU seconds (all threads of the xen-core process, /proc/<pid>/stat, and its C1 + C2
// compiler threads and its vCPU threads alone) per phase.
// Run it for the old and the new jar one after the other and compare; figures are printed, never asserted.
//   java xen-core/bench/JitAb.java <guest-dir> <xen-core.jar> <jit|interpreter> <MiB> [nogzip] [jvm options...]
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public final class JitAb {
    static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime + stime, clock ticks
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    /**
     * CPU seconds of the process's HotSpot compiler threads ("C1 Compiler..." and "C2 Compiler...", {@code compilers})
     * or of its vCPU threads (names containing "vcpu"), from /proc/<pid>/task/<tid>/stat.
     */
    static double threadSeconds(long pid, boolean compilers) {
        double sum = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    boolean compiler = name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler");
                    if (compilers ? compiler : name.contains("vcpu")) {
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        sum += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
                    }
                } catch (Exception e) {
                    // the thread ended meanwhile
                }
            }
        } catch (Exception e) {
            return Double.NaN;
        }
        return sum;
    }

    public static void main(String[] a) throws Exception {
        if (a.length < 4 || !a[3].matches("[1-9][0-9]*")) {
            throw new IllegalArgumentException("usage: JitAb <guest-dir> <jar> <jit|interpreter> <MiB> [nogzip] [jvm options...]");
        }
        Path guest = Path.of(a[0]);
        long bytes = Long.parseLong(a[3]) << 20;
        int next = 4;
        boolean gzip = !(a.length > 4 && a[4].equals("nogzip"));
        if (!gzip) {
            next++;
        }
        String w = String.join("\n",
                "n=$((" + bytes + " / $(stat -c %s /bin/busybox) + 1)); : > /tmp/d",
                "while [ $n -gt 0 ]; do cat /bin/busybox >> /tmp/d; n=$((n-1)); done",
                "head -c " + bytes + " /tmp/d > /tmp/d64; head -c " + bytes / 2 + " /tmp/d > /tmp/d32; rm /tmp/d",
                "echo BENCH sha-start", "sha256sum /tmp/d64", "echo BENCH sha-end",
                "echo BENCH gzip-start", gzip ? "gzip -6 -c /tmp/d32 > /dev/null" : "true", "echo BENCH gzip-end", "");
        String cmd = "console=ttyS0 domus.run64=" + Base64.getEncoder().encodeToString(w.getBytes(StandardCharsets.UTF_8));
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Ddomus.cpu.engine=" + a[2]));
        c.addAll(List.of(a).subList(next, a.length));
        c.addAll(List.of("-cp", a[1], "dev.domus.xen.cli.Boot", "--kernel", guest.resolve("Image").toString(),
                "--initrd", guest.resolve("initramfs.cpio.gz").toString(), "--memory", "512", "--vcpus", "1",
                "--append", cmd));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
        Map<String, Long> wall = new HashMap<>();
        Map<String, Double> cpu = new HashMap<>();
        Map<String, Double> jitCpu = new HashMap<>();
        Map<String, Double> vcpuCpu = new HashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            boolean echo = System.getenv("JITAB_ECHO") != null; // JITAB_ECHO=1: copy the whole output (diagnostics)
            for (String l; (l = r.readLine()) != null; ) {
                if (echo) {
                    System.out.println(l);
                }
                String mark = l.contains("DOMUS-GUEST-READY") ? "ready" : l.startsWith("BENCH ") ? l.substring(6).trim()
                        : null;
                if (mark != null && !wall.containsKey(mark)) {
                    wall.put(mark, System.nanoTime());
                    cpu.put(mark, cpuSeconds(p.pid()));
                    jitCpu.put(mark, threadSeconds(p.pid(), true));
                    vcpuCpu.put(mark, threadSeconds(p.pid(), false));
                }
                if (l.contains("event=jit-stats")) {
                    System.out.println(l.substring(l.indexOf("event=")) + " at=" + (wall.containsKey("gzip-start") ? "gzip"
                            : wall.containsKey("sha-start") ? "sha" : wall.containsKey("ready") ? "ready" : "boot"));
                }
                if (l.contains("DOMUS-RUN-EXIT=")) {
                    break;
                }
            }
        }
        p.waitFor();
        for (String k : List.of("ready", "sha-start", "sha-end", "gzip-start", "gzip-end")) {
            if (!wall.containsKey(k)) {
                throw new IllegalStateException("marker " + k + " never appeared");
            }
        }
        System.out.printf("%s %s: wall ready %.2f sha %.2f gzip %.2f | cpu ready %.2f sha %.2f gzip %.2f"
                        + " | C1+C2 cpu ready %.2f sha %.2f gzip %.2f | vCPU cpu ready %.2f sha %.2f gzip %.2f | load %s%n",
                a[1], a[2], (wall.get("ready") - t0) / 1e9, (wall.get("sha-end") - wall.get("sha-start")) / 1e9,
                (wall.get("gzip-end") - wall.get("gzip-start")) / 1e9, cpu.get("ready"),
                cpu.get("sha-end") - cpu.get("sha-start"), cpu.get("gzip-end") - cpu.get("gzip-start"),
                jitCpu.get("ready"), jitCpu.get("sha-end") - jitCpu.get("sha-start"),
                jitCpu.get("gzip-end") - jitCpu.get("gzip-start"), vcpuCpu.get("ready"),
                vcpuCpu.get("sha-end") - vcpuCpu.get("sha-start"), vcpuCpu.get("gzip-end") - vcpuCpu.get("gzip-start"),
                Files.readString(Path.of("/proc/loadavg")).trim());
    }
}
