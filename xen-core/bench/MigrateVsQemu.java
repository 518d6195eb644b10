// SPDX-License-Identifier: Apache-2.0

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Live migration of one busy guest by xen-core ({@code bin/xl migrate}) and by QEMU TCG (HMP {@code migrate}), on
 * loopback, in one invocation. Launched by xen-core/bench/migrate-vs-qemu.
 *
 * <p>xen-core boots its guest once and migrates it back and forth between two run directories ("hosts" A and B,
 * each keeping its runner jar copy and AOT cache like a long-lived host): the first {@link #COLD_MIGRATIONS}
 * migrations run in JVMs without an AOT cache (each host's first runner records it) and are reported apart as
 * "cold"; the measured rounds follow. Every migration's target is a fresh runner ({@code xl migrate-receive}),
 * started and listening before the migrate command. QEMU boots a source and a target per round (its boot is
 * cheap and native code needs no warm-up).
 *
 * <p>How each figure is measured:
 * <ul>
 *   <li>xen-core downtime: source vCPUs stopped ({@code stopped_at_ns} in the source runner's
 *       {@code migration_stop_copy} log line, right after every vCPU thread parked) to target vCPUs released
 *       ({@code resumed_ns} in the target runner's {@code migration_resumed} line, right after they were unparked);
 *       both are {@code System.nanoTime()} = CLOCK_MONOTONIC of the same host. Also printed: the source's own
 *       figure (vCPUs stopped to the target's DONE received), as {@code xl migrate} reports it.</li>
 *   <li>QEMU downtime: the {@code downtime} QEMU itself reports in {@code info migrate} (ms resolution).</li>
 *   <li>total time, from the migrate command to the guest running on the target: xen-core's {@code total_ms} (the
 *       source runner's migration thread starts, connect, handshake, preview, full pass, dirty rounds,
 *       stop-and-copy, up to DONE, which the target sends after its vCPUs were released; the phases are printed
 *       per round), QEMU's {@code total time} (migrate command to completion on the source, which is when the
 *       target is told to run).</li>
 *   <li>bytes: xen-core's stream bytes (all frames), QEMU's {@code transferred ram}.</li>
 * </ul>
 */
public final class MigrateVsQemu {
    private static final String NAME = "migbench";
    private static final int MEMORY_MIB = 256;
    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration MIGRATE_TIMEOUT = Duration.ofMinutes(10);
    /** Counter lines seen on the source before migrating: the dirtying loop has been running for a while. */
    private static final int WARM_COUNT = 5;
    private static final String WORKLOAD = String.join("\n",
            "mkdir -p /tmp/busy",
            "dd if=/dev/urandom of=/tmp/busy/f bs=64k count=512 2>/dev/null",
            "echo BENCH-BUSY",
            "(j=0; while true; do j=$((j+1)); r=${RANDOM:-$((j*7919))};"
                    + " dd if=/dev/urandom of=/tmp/busy/f bs=64k count=1 seek=$((r % 512)) conv=notrunc 2>/dev/null;"
                    + " done) &",
            "i=0; while true; do i=$((i+1)); echo COUNT=$i; sleep 1; done", "");
    private static final Pattern COUNT = Pattern.compile("COUNT=(\\d+)");
    /** xen-core migrations before the measured ones: their JVMs run without an AOT cache (see the class doc). */
    static final int COLD_MIGRATIONS = 2;

    /** One migration; {@code phases} is xen-core's per-phase breakdown (empty for QEMU). */
    /**
     * One migration; {@code phases} is xen-core's per-phase breakdown (empty for QEMU). {@code qemuDefMs} is the
     * downtime as QEMU defines its own: from the stop request to the last byte sent by the source (the vCPU stop
     * included, the target's apply and resume excluded); for QEMU it is its reported downtime.
     */
    record Run(double downtimeMs, double sourceDowntimeMs, double totalMs, long bytes, int rounds, String phases,
               double qemuDefMs) { }

    public static void main(String[] args) throws Exception {
        Path guest = Path.of(args[0]);
        Path repo = Path.of(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int downtimeMs = Integer.parseInt(args[3]);
        Path work = Path.of(args[4]);
        String cmdline = "console=ttyS0 domus.run64=" + Base64.getEncoder().encodeToString(
                WORKLOAD.getBytes(StandardCharsets.UTF_8));
        System.out.printf("migrate-vs-qemu: %d rounds, %d MiB guest, 1 vCPU, downtime target %d ms, load average %s%n",
                rounds, MEMORY_MIB, downtimeMs, load());
        List<Run> xr = new ArrayList<>();
        List<Run> qr = new ArrayList<>();
        // MIGBENCH_ONLY=qemu|xen-core runs one side only (both columns then show it), for debugging the harness.
        String only = System.getenv().getOrDefault("MIGBENCH_ONLY", "");
        // The targets build the domain before the source connects (migrate-receive --config), as QEMU's -incoming
        // target and a toolstack's target do; MIGBENCH_PREBUILD=0 turns that off, MIGBENCH_BASELINE_PREBUILD=1 on for
        // the baseline (whose xl must know --config).
        XenSeries xen = only.equals("qemu") ? null : new XenSeries(guest, repo, cmdline, downtimeMs,
                work.resolve("xen"), !System.getenv().getOrDefault("MIGBENCH_PREBUILD", "1").equals("0"));
        // MIGBENCH_BASELINE=<checkout> also migrates with that checkout's bin/xl (an A/B of two xen-core versions
        // under the same load): its own guest, hosts and cold migrations, rounds interleaved with the others.
        String baseRepo = System.getenv().getOrDefault("MIGBENCH_BASELINE", "");
        XenSeries base = baseRepo.isEmpty() || xen == null ? null : new XenSeries(guest, Path.of(baseRepo), cmdline,
                downtimeMs, work.resolve("base"),
                System.getenv().getOrDefault("MIGBENCH_BASELINE_PREBUILD", "0").equals("1"));
        List<XenSeries> series = new ArrayList<>();
        if (xen != null) {
            series.add(xen);
        }
        if (base != null) {
            series.add(base);
        }
        List<Run> cold = new ArrayList<>();
        List<Run> br = new ArrayList<>();
        try {
            for (XenSeries x : series) {
                x.create();
            }
            for (XenSeries x : series) {
                x.awaitBusy();
            }
            for (int c = 1; c <= COLD_MIGRATIONS; c++) {
                for (XenSeries xs : series) {
                    Run x = xs.migrate();
                    if (xs == xen) {
                        cold.add(x);
                    }
                    System.out.printf("cold %d %s (load %s): downtime %.3f ms (source-measured %.3f) total %.0f"
                            + " ms %d bytes %d rounds%n    %s%n", c, xs == xen ? "xen-core" : "baseline", load(),
                            x.downtimeMs, x.sourceDowntimeMs, x.totalMs, x.bytes, x.rounds, x.phases);
                }
            }
            for (int r = 1; r <= rounds; r++) {
                Run q = only.equals("xen-core") ? null : qemu(guest, cmdline, downtimeMs, work.resolve("q" + r));
                if (base != null) {
                    Run b = base.migrate();
                    br.add(b);
                    System.out.printf("round %d baseline (load %s): downtime %.3f ms (source-measured %.3f) total"
                            + " %.0f ms %d bytes %d rounds%n    %s%n", r, load(), b.downtimeMs, b.sourceDowntimeMs,
                            b.totalMs, b.bytes, b.rounds, b.phases);
                }
                Run x = xen == null ? q : xen.migrate();
                q = q == null ? x : q;
                qr.add(q);
                xr.add(x);
                System.out.printf("round %d (load %s): xen-core downtime %.3f ms (QEMU-def. %.3f, source-measured"
                                + " %.3f) total %.0f ms %d bytes %d rounds | qemu downtime %.0f ms total %.0f ms %d bytes"
                                + " %d rounds%n    %s%n",
                        r, load(), x.downtimeMs, x.qemuDefMs, x.sourceDowntimeMs, x.totalMs, x.bytes, x.rounds,
                        q.downtimeMs, q.totalMs, q.bytes, q.rounds, x.phases);
            }
            if (xen != null) {
                // xl save --checkpoint of the same busy guest: pre-copy into the file, the pause is the last pages.
                for (int c = 1; c <= 3; c++) {
                    System.out.printf("checkpoint %d (load %s): %s%n", c, load(), xen.checkpoint(work.resolve(
                            "cp" + c + ".snap")));
                }
            }
        } finally {
            for (XenSeries x : series) {
                x.close();
            }
        }
        System.out.println();
        System.out.printf("%-28s %14s %14s %10s%n", "over " + rounds + " rounds", "xen-core", "qemu-tcg", "ratio");
        double[] xd = xr.stream().mapToDouble(Run::downtimeMs).toArray();
        double[] qd = qr.stream().mapToDouble(Run::downtimeMs).toArray();
        row("downtime p50 (ms)", pct(xd, 50), pct(qd, 50));
        row("downtime p99 (ms)", pct(xd, 99), pct(qd, 99));
        double[] xs = xr.stream().mapToDouble(Run::sourceDowntimeMs).toArray();
        double[] xq = xr.stream().mapToDouble(Run::qemuDefMs).toArray();
        row("QEMU-def. downtime p50 (ms)", pct(xq, 50), pct(qd, 50));
        row("QEMU-def. downtime p99 (ms)", pct(xq, 99), pct(qd, 99));
        System.out.printf("%-28s %14.3f %14s%n", "  source-measured p50 (ms)", pct(xs, 50), "-");
        System.out.printf("%-28s %14.3f %14s%n", "  source-measured p99 (ms)", pct(xs, 99), "-");
        row("total time p50 (ms)", pct(xr.stream().mapToDouble(Run::totalMs).toArray(), 50),
                pct(qr.stream().mapToDouble(Run::totalMs).toArray(), 50));
        row("bytes sent p50 (MiB)", pct(xr.stream().mapToDouble(x -> x.bytes / 1048576.0).toArray(), 50),
                pct(qr.stream().mapToDouble(x -> x.bytes / 1048576.0).toArray(), 50));
        row("rounds p50", pct(xr.stream().mapToDouble(Run::rounds).toArray(), 50),
                pct(qr.stream().mapToDouble(Run::rounds).toArray(), 50));
        if (!br.isEmpty()) {
            System.out.printf("%-28s %14s %14s %10s%n", "xen-core vs baseline", "xen-core", "baseline", "ratio");
            double[] bd = br.stream().mapToDouble(Run::downtimeMs).toArray();
            row("downtime p50 (ms)", pct(xd, 50), pct(bd, 50));
            row("downtime p99 (ms)", pct(xd, 99), pct(bd, 99));
            double[] bq = br.stream().mapToDouble(Run::qemuDefMs).toArray();
            row("QEMU-def. downtime p50 (ms)", pct(xq, 50), pct(bq, 50));
            row("QEMU-def. downtime p99 (ms)", pct(xq, 99), pct(bq, 99));
            row("total time p50 (ms)", pct(xr.stream().mapToDouble(Run::totalMs).toArray(), 50),
                    pct(br.stream().mapToDouble(Run::totalMs).toArray(), 50));
            row("rounds p50", pct(xr.stream().mapToDouble(Run::rounds).toArray(), 50),
                    pct(br.stream().mapToDouble(Run::rounds).toArray(), 50));
        }
        if (!cold.isEmpty()) {
            System.out.printf("%-28s %14.3f %14s%n", "  cold downtime max (ms)",
                    cold.stream().mapToDouble(Run::downtimeMs).max().orElse(0), "-");
            System.out.printf("%-28s %14.3f %14s%n", "  cold total max (ms)",
                    cold.stream().mapToDouble(Run::totalMs).max().orElse(0), "-");
        }
        System.out.println("(ratio = xen-core / QEMU; < 1 means xen-core is lower. p99 of a few rounds is their"
                + " maximum. load average at the end: " + load() + ")");
        System.out.println("xen-core downtime = source vCPUs stopped -> target vCPUs released (CLOCK_MONOTONIC"
                + " stamps of both runners on this host); source-measured = vCPUs stopped -> target ACK received;");
        System.out.println("QEMU-def. downtime = what QEMU's own figure spans, for xen-core: stop request -> last byte"
                + " of the stop-and-copy sent by the source (vCPU stop included; target apply, hand-over, resume"
                + " excluded);");
        System.out.println("QEMU downtime = its own 'downtime' from info migrate (ms); total = xl total_ms / QEMU"
                + " 'total time'; bytes = xen-core stream bytes / QEMU 'transferred ram'.");
    }

    private static void row(String name, double x, double q) {
        System.out.printf("%-28s %14.3f %14.3f %10.3f%n", name, x, q, q == 0 ? Double.NaN : x / q);
    }

    /** Nearest-rank percentile. */
    static double pct(double[] v, int p) {
        double[] s = v.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    private static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    // ---------------------------------------------------------------- xen-core

    /**
     * One xen-core guest migrated back and forth between run directories A and B; each {@link #migrate()} moves it
     * to the other one and checks its counter goes on there.
     */
    private static final class XenSeries implements AutoCloseable {
        private final Path guest;
        private final String cmdline;
        private final int downtimeMs;
        private final Path[] hosts;
        private final Path cfg;
        private final String xl;
        /** Targets get {@code --config} and are waited for until built and warmed ({@code migration_prebuilt}). */
        private final boolean prebuild;
        private final List<Process> started = new ArrayList<>();
        private int at;
        private Capture console;
        /** The log of the runner that holds the guest now (a migrated-in runner logs to its incoming log). */
        private Path runnerLog;

        XenSeries(Path guest, Path repo, String cmdline, int downtimeMs, Path dir, boolean prebuild)
                throws IOException {
            this.prebuild = prebuild;
            this.guest = guest;
            this.cmdline = cmdline;
            this.downtimeMs = downtimeMs;
            Files.createDirectories(dir);
            hosts = new Path[] {dir.resolve("hostA"), dir.resolve("hostB")};
            cfg = dir.resolve(NAME + ".cfg");
            xl = repo.resolve("bin/xl").toString();
        }

        void create() throws Exception {
            Files.writeString(cfg, "name = '" + NAME + "'\nmemory = " + MEMORY_MIB + "\nvcpus = 1\n"
                    + "kernel = '" + guest.resolve("Image") + "'\nramdisk = '" + guest.resolve("initramfs.cpio.gz")
                    + "'\nextra = '" + cmdline + "'\non_poweroff = 'destroy'\non_reboot = 'destroy'\n"
                    + "on_crash = 'destroy'\n");
            check(run(hosts[0], guest, List.of(xl, "create", cfg.toString())), "xl create");
            runnerLog = hosts[0].resolve("xl/" + NAME + ".log");
            console = attach(hosts[0]);
        }

        void awaitBusy() throws Exception {
            console.await(s -> lastCount(s) >= WARM_COUNT && s.contains("BENCH-BUSY"), BOOT_TIMEOUT,
                    "xen-core guest busy");
        }

        private Capture attach(Path host) throws IOException {
            Process p = start(started, host, guest, List.of(xl, "console", NAME));
            Capture.of(p.getErrorStream());
            return Capture.of(p.getInputStream());
        }

        Run migrate() throws Exception {
            Path src = hosts[at];
            Path dst = hosts[1 - at];
            awaitAotCache(dst);
            int port = freePort();
            List<String> receiveCmd = new ArrayList<>(List.of(xl, "migrate-receive", "--listen", "127.0.0.1:" + port));
            if (prebuild) {
                receiveCmd.addAll(List.of("--config", cfg.toString()));
            }
            Process receive = start(started, dst, guest, receiveCmd);
            Capture.of(receive.getInputStream());
            Capture recvErr = Capture.of(receive.getErrorStream());
            Path incomingLog = dst.resolve("xl/incoming-127.0.0.1_" + port + ".log");
            awaitFile(incomingLog, prebuild ? "migration_prebuilt" : "migration_listening", Duration.ofMinutes(2));
            String prebuiltLine = prebuild ? lastLine(incomingLog, "event=migration_prebuilt") : "";
            Result m = run(src, guest, List.of(xl, "migrate", "--downtime-ms", String.valueOf(downtimeMs), NAME,
                    "127.0.0.1:" + port));
            check(m, "xl migrate");
            if (!receive.waitFor(2, TimeUnit.MINUTES) || receive.exitValue() != 0) {
                throw new IllegalStateException("xl migrate-receive failed: " + recvErr);
            }
            int atSource = lastCount(console.text());
            Map<String, String> done = fields(m.out, "migrated");
            String stopLine = lastLine(runnerLog, "event=migration_stop_copy");
            String phasesLine = Files.readAllLines(runnerLog).stream()
                    .filter(l -> l.contains("event=migration_phases")).reduce((a, b) -> b).orElse("event=none");
            String resumedLine = lastLine(incomingLog, "event=migration_resumed");
            String handshakeLine = lastLine(runnerLog, "event=migration_handshake");
            String fullLine = lastLine(runnerLog, "event=migration_full_ram");
            Map<String, String> stop = fields(stopLine, "event=");
            Map<String, String> resumed = fields(resumedLine, "event=");
            long stoppedAt = Long.parseLong(stop.get("stopped_at_ns"));
            long resumedAt = Long.parseLong(resumed.get("resumed_ns"));
            String phases = "source " + pick(fields(phasesLine, "event="), "handshake_us", "warm_up_us",
                    "full_pass_us", "rounds_us", "probe_us", "decide_us", "progress_us", "log_us", "prepare_us", "gc_us", "stop_copy_us") + " | handshake "
                    + pick(fields(handshakeLine, "event="), "setup_us", "preview_us", "encoder_warm_us",
                    "preview_encode_us", "hello_wait_us", "hello_pages", "preview_send_us") + " | full " + pick(fields(fullLine, "event="),
                    "scan_send_us", "socket_write_us", "sync_us") + " | pause " + pick(stop,
                    "pause_us", "pages_us",
                    "state_us", "flush_us", "ready_wait_us", "final_pages", "rounds", "estimate_us", "fixed_bound")
                    + (prebuild ? " | prebuilt " + pick(fields(prebuiltLine, "event="), "build_us", "warm_us") : "")
                    + " | target " + pick(resumed, "accept_hello_us", "hello_answer_us", "build_us", "gc_us",
                    "decode_us", "receive_us", "wait_built_us", "restore_us", "commit_us", "resume_us")
                    // From the source's STATE flush to the target picking the frame up (both CLOCK_MONOTONIC):
                    // large when the target's receiving thread had stopped spinning and waits to be scheduled.
                    + " state_lag_us=" + (Long.parseLong(resumed.get("state_at_ns")) - stoppedAt
                    - Long.parseLong(stop.get("state_us")) * 1000) / 1000;
            // The guest must go on on the target: its counter passes the source's last value.
            at = 1 - at;
            runnerLog = incomingLog;
            console = attach(dst);
            console.await(s -> lastCount(s) > atSource + 2, Duration.ofMinutes(3), "xen-core guest counting on the"
                    + " target past " + atSource);
            double qemuDef = (Long.parseLong(stop.get("pause_us")) + Long.parseLong(stop.get("state_us"))
                    + Long.parseLong(stop.get("pages_us")) + Long.parseLong(stop.get("flush_us"))) / 1e3;
            return new Run((resumedAt - stoppedAt) / 1e6, Long.parseLong(done.get("downtime_us")) / 1e3,
                    Double.parseDouble(done.get("total_ms")), Long.parseLong(done.get("bytes")),
                    Integer.parseInt(done.get("rounds")), phases, qemuDef);
        }

        /** {@code xl save --checkpoint} on the host holding the guest; returns xl's line (bytes, pause). */
        String checkpoint(Path file) throws Exception {
            Result r = run(hosts[at], guest, List.of(xl, "save", "--checkpoint", NAME, file.toString()));
            check(r, "xl save --checkpoint");
            Files.deleteIfExists(file);
            return r.err.strip();
        }

        /** A host's first runner records its AOT cache on exit (in a child JVM): use it once it is there. */
        private static void awaitAotCache(Path host) throws Exception {
            Path lib = host.resolve("xl/lib");
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (System.nanoTime() < end && Files.isDirectory(lib)) {
                boolean pending;
                try (var files = Files.list(lib)) {
                    pending = files.map(Path::toString).filter(f -> f.endsWith(".aot.training"))
                            .anyMatch(f -> !Files.exists(Path.of(f.substring(0, f.length() - 9))));
                }
                if (!pending) {
                    return;
                }
                Thread.sleep(200);
            }
        }

        @Override
        public void close() throws Exception {
            for (Path h : hosts) {
                if (Files.isDirectory(h)) {
                    run(h, guest, List.of(xl, "destroy", NAME));
                }
            }
            for (Process p : started) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }

    private static String pick(Map<String, String> m, String... keys) {
        StringBuilder b = new StringBuilder();
        for (String k : keys) {
            b.append(b.isEmpty() ? "" : " ").append(k).append('=').append(m.getOrDefault(k, "?"));
        }
        return b.toString();
    }

    private static String lastLine(Path file, String needle) throws IOException {
        List<String> hits = Files.readAllLines(file).stream().filter(l -> l.contains(needle)).toList();
        if (hits.isEmpty()) {
            throw new IllegalStateException("no '" + needle + "' line in " + file);
        }
        return hits.getLast();
    }

    /** key=value words after {@code from} in one line. */
    private static Map<String, String> fields(String text, String from) {
        String line = text.lines().filter(l -> l.contains(from)).reduce((a, b) -> b).orElseThrow(
                () -> new IllegalStateException("no line with '" + from + "' in: " + text));
        Map<String, String> m = new java.util.HashMap<>();
        Matcher kv = Pattern.compile("([a-z_]+)=([^\\s]+)").matcher(line);
        while (kv.find()) {
            m.put(kv.group(1), kv.group(2));
        }
        return m;
    }

    private static void awaitFile(Path file, String needle, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(file) && Files.readString(file).contains(needle)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("'" + needle + "' did not appear in " + file + " within " + timeout);
    }

    // ---------------------------------------------------------------- QEMU

    private static Run qemu(Path guest, String cmdline, int downtimeMs, Path dir) throws Exception {
        Files.createDirectories(dir);
        int port = freePort();
        Path monA = dir.resolve("a.mon");
        Path monB = dir.resolve("b.mon");
        List<Process> started = new ArrayList<>();
        try {
            Process a = startQemu(started, guest, cmdline, monA, List.of());
            Capture outA = Capture.of(a.getInputStream());
            outA.await(s -> lastCount(s) >= WARM_COUNT && s.contains("BENCH-BUSY"), BOOT_TIMEOUT, "QEMU guest busy");
            Process b = startQemu(started, guest, cmdline, monB, List.of("-incoming", "tcp:127.0.0.1:" + port));
            Capture outB = Capture.of(b.getInputStream());
            try (Hmp src = Hmp.open(monA, Duration.ofMinutes(1)); Hmp dst = Hmp.open(monB, Duration.ofMinutes(1))) {
                dst.command("info status");
                src.command("migrate_set_parameter downtime-limit " + downtimeMs);
                // QEMU 7.2 caps migration at 32 MiB/s by default; xen-core has no cap, so neither does QEMU here.
                src.command("migrate_set_parameter max-bandwidth 100G");
                src.command("migrate -d tcp:127.0.0.1:" + port);
                long end = System.nanoTime() + MIGRATE_TIMEOUT.toNanos();
                String info;
                while (true) {
                    info = src.command("info migrate");
                    if (info.contains("Migration status: completed")) {
                        break;
                    }
                    if (info.contains("Migration status: failed") || info.contains("Migration status: cancelled")
                            || System.nanoTime() > end) {
                        throw new IllegalStateException("QEMU migration did not complete:\n" + info);
                    }
                    Thread.sleep(50);
                }
                int atSource = lastCount(outA.text());
                // Reported, not required: QEMU 7.2's riscv virt target may not resume timer-driven output.
                boolean continued;
                try {
                    outB.await(s -> lastCount(s) > atSource, Duration.ofSeconds(20), "QEMU target counting");
                    continued = true;
                } catch (IllegalStateException e) {
                    continued = false;
                }
                String status = dst.command("info status").trim();
                System.out.println("  qemu: target " + status.lines().filter(l -> l.contains("VM status"))
                        .findFirst().orElse(status) + ", guest counter continued on the target console within 20 s: "
                        + (continued ? "yes" : "no (source stopped at " + atSource + ")"));
                double downtime = number(info, "downtime: (\\d+) ms");
                double total = number(info, "total time: (\\d+) ms");
                long bytes = (long) number(info, "transferred ram: (\\d+) kbytes") * 1024;
                int rounds = (int) number(info, "dirty sync count: (\\d+)");
                src.command("quit");
                dst.command("quit");
                return new Run(downtime, downtime, total, bytes, rounds, "", downtime);
            }
        } finally {
            for (Process p : started) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("'" + regex + "' not in QEMU's info migrate:\n" + text);
        }
        return Double.parseDouble(m.group(1));
    }

    private static Process startQemu(List<Process> started, Path guest, String cmdline, Path monitor,
                                     List<String> extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-system-riscv64", "-M", "virt", "-m",
                String.valueOf(MEMORY_MIB), "-smp", "1", "-nographic", "-bios", "default",
                "-kernel", guest.resolve("Image").toString(), "-initrd", guest.resolve("initramfs.cpio.gz").toString(),
                "-append", cmdline, "-monitor", "unix:" + monitor + ",server=on,wait=off"));
        cmd.addAll(extra);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        started.add(p);
        return p;
    }

    /** The QEMU human monitor over its unix socket: a command, then everything up to the next prompt. */
    private static final class Hmp implements AutoCloseable {
        private static final String PROMPT = "(qemu) ";
        private final SocketChannel ch;
        private final StringBuilder pending = new StringBuilder();

        private Hmp(SocketChannel ch) {
            this.ch = ch;
        }

        static Hmp open(Path socket, Duration timeout) throws Exception {
            long end = System.nanoTime() + timeout.toNanos();
            while (true) {
                try {
                    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    Hmp h = new Hmp(ch);
                    h.untilPrompt();
                    return h;
                } catch (IOException e) {
                    if (System.nanoTime() > end) {
                        throw new IllegalStateException("QEMU monitor " + socket + " did not answer: " + e);
                    }
                    Thread.sleep(100);
                }
            }
        }

        String command(String line) throws IOException {
            ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            if (line.equals("quit")) {
                return "";
            }
            return untilPrompt();
        }

        private String untilPrompt() throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (pending.indexOf(PROMPT) < 0) {
                buf.clear();
                if (ch.read(buf) < 0) {
                    throw new IOException("QEMU monitor closed");
                }
                pending.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            }
            int at = pending.indexOf(PROMPT);
            String out = pending.substring(0, at);
            pending.delete(0, at + PROMPT.length());
            return out;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    // ---------------------------------------------------------------- processes

    private record Result(int status, String out, String err) { }

    private static void check(Result r, String what) {
        if (r.status != 0) {
            throw new IllegalStateException(what + " failed (" + r.status + "): " + r.err + r.out);
        }
    }

    private static Process start(List<Process> started, Path runDir, Path guest, List<String> cmd)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("DOMUS_RUN_DIR", runDir.toString());
        pb.environment().put("DOMUS_GUEST_DIR", guest.toString());
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private static Result run(Path runDir, Path guest, List<String> cmd) throws Exception {
        List<Process> l = new ArrayList<>();
        Process p = start(l, runDir, guest, cmd);
        Capture out = Capture.of(p.getInputStream());
        Capture err = Capture.of(p.getErrorStream());
        if (!p.waitFor(MIGRATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " did not finish within " + MIGRATE_TIMEOUT);
        }
        out.join();
        err.join();
        return new Result(p.exitValue(), out.text(), err.text());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static int lastCount(String s) {
        Matcher m = COUNT.matcher(s);
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    /** Collects a process stream on a daemon thread; callers wait on its content with a timeout. */
    private static final class Capture {
        private final StringBuilder sb = new StringBuilder();
        private final Thread thread;

        private Capture(InputStream in) {
            thread = Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[4096];
                try (in) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        synchronized (sb) {
                            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                            if (sb.length() > 1 << 20) {
                                sb.delete(0, sb.length() - (1 << 19));
                            }
                            sb.notifyAll();
                        }
                    }
                } catch (IOException e) {
                    // process ended
                }
            });
        }

        static Capture of(InputStream in) {
            return new Capture(in);
        }

        String text() {
            synchronized (sb) {
                return sb.toString();
            }
        }

        void join() throws InterruptedException {
            thread.join(60_000);
        }

        void await(Predicate<String> done, Duration timeout, String what) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            synchronized (sb) {
                while (!done.test(sb.toString())) {
                    long left = end - System.nanoTime();
                    if (left <= 0) {
                        String t = sb.toString();
                        throw new IllegalStateException(what + ": not within " + timeout + "; output tail:\n"
                                + t.substring(Math.max(0, t.length() - 2000)));
                    }
                    sb.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
        }
    }
}
