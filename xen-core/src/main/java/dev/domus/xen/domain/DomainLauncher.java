// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts a {@link DomainRunner} as a detached child process (own session via {@code setsid}, stdin from
 * {@code /dev/null}, stderr appended to {@code <name>.log}) and waits for its one-line handshake, so a caller
 * learns "running" or the exact startup error. The runner outlives the caller.
 */
public final class DomainLauncher {
    /** Extra JVM options for runners, split on whitespace (e.g. {@code -Xmx512m}). */
    public static final String JAVA_OPTS_ENV = "DOMUS_RUNNER_JAVA_OPTS";
    /** How long {@link #launch} waits for the runner to report ready by default. */
    public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(60);

    /** A runner that reported ready. {@code process} is only useful while the launching process lives. */
    public record Launched(String name, long pid, Process process) { }

    private final RunDir runDir;
    private final Map<String, String> env;

    public DomainLauncher(RunDir runDir) {
        this(runDir, System.getenv());
    }

    public DomainLauncher(RunDir runDir, Map<String, String> env) {
        this.runDir = runDir;
        this.env = env;
    }

    /**
     * Starts the runner for {@code config} and waits until it serves its sockets.
     *
     * @param paused create the machine but do not start it until {@code unpause}
     * @throws DomainException {@code exists} if the name is taken, otherwise the runner's own error code and
     *                         message, or {@code launch} when it died or hung before the handshake
     */
    public Launched launch(DomainConfig config, boolean paused, Duration readyTimeout) {
        return launch(config, command(config, paused), readyTimeout);
    }

    /**
     * Starts a runner that restores {@code snapshot}. The snapshot is validated here first, so a bad file is
     * refused with its error before any process starts; the runner validates it again before building the machine.
     *
     * @throws DomainException {@code snapshot} for an invalid file, else as {@link #launch}
     */
    public Launched restore(java.nio.file.Path snapshot, boolean paused, Duration readyTimeout) {
        return restore(snapshot, java.util.Optional.empty(), paused, readyTimeout);
    }

    /**
     * Like {@link #restore(java.nio.file.Path, boolean, Duration)}, but with {@code config} (loaded from its file)
     * for the name, disks, vifs and lifecycle of the restored domain, e.g. a clone of a template snapshot with its
     * own disks. Memory, vCPUs, the device list and the console must equal the snapshot's.
     *
     * @throws DomainException {@code config} when {@code config} does not fit the snapshot (nothing is started)
     */
    public Launched restore(java.nio.file.Path snapshot, java.util.Optional<DomainConfig> config, boolean paused,
                            Duration readyTimeout) {
        java.nio.file.Path abs = snapshot.toAbsolutePath().normalize();
        DomainConfig saved = DomainRecord.decode(DomainRunner.readSnapshot(abs).state().domain());
        List<String> args = new ArrayList<>(List.of("--restore", abs.toString()));
        DomainConfig effective = saved;
        if (config.isPresent()) {
            effective = RestoreConfig.check(saved, config.get());
            args.add("--config");
            args.add(config.get().source().toString());
        }
        return launchRestored(effective, args, paused, readyTimeout);
    }

    private Launched launchRestored(DomainConfig config, List<String> args, boolean paused, Duration readyTimeout) {
        if (paused) {
            args.add("--paused");
        }
        return launch(config, runnerCommand(config.name(), args), readyTimeout);
    }

    /**
     * Starts the runner process {@code cmd}: stdin from /dev/null, stderr appended to {@code log}, stdout piped
     * for the handshake line. The runner re-reads the config, so it gets the environment the config was
     * validated with (for ${VAR} expansion).
     */
    private Process startRunner(List<String> cmd, String name, Path log) {
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectOutput(ProcessBuilder.Redirect.PIPE);
        pb.environment().putAll(env);
        try {
            return pb.start();
        } catch (IOException e) {
            throw new DomainException(DomainException.LAUNCH, name, "cannot start the domain runner ("
                    + cmd.getFirst() + "): " + e.getMessage(), e);
        }
    }

    private Launched launch(DomainConfig config, List<String> cmd, Duration readyTimeout) {
        String name = config.name();
        runDir.checkSocketPaths(name);
        runDir.create();
        if (runDir.isHeld(name)) {
            throw new DomainException(DomainException.EXISTS, name, "domain '" + name + "' already exists");
        }
        Path log = runDir.logFile(name);
        Process p = startRunner(cmd, name, log);
        String line = handshake(p, name, readyTimeout, log);
        if (line != null && line.startsWith("ready ")) {
            try {
                return new Launched(name, Long.parseLong(line.substring(6).strip()), p);
            } catch (NumberFormatException e) {
                p.destroy();
                throw new DomainException(DomainException.LAUNCH, name, "bad handshake from runner: " + line);
            }
        }
        if (line != null && line.startsWith("error ")) {
            String rest = line.substring(6);
            int sp = rest.indexOf(' ');
            String code = sp < 0 ? DomainException.LAUNCH : rest.substring(0, sp);
            String message = sp < 0 ? rest : rest.substring(sp + 1);
            reap(p);
            throw new DomainException(code, name, message);
        }
        int status = reap(p);
        throw new DomainException(DomainException.LAUNCH, name, "the runner of domain '" + name + "' exited"
                + (status >= 0 ? " with status " + status : "") + " before it was ready; see " + log);
    }

    /**
     * The JVM options every domain runner starts with (benchmarks that time a boot use the same ones). Why each:
     * <ul>
     * <li>{@code -XX:PerMethodTrapLimit=0}: HotSpot's C2 normally compiles branches and switch cases that the
     * profile never saw as "uncommon traps" that deoptimize when first taken. A guest keeps reaching new paths of the
     * CPU engine for seconds (new instructions, traps, devices, user mode), and every deoptimization of the
     * interpreter loop costs a recompilation of a 2.7 KB method plus seconds in slower code: boot took ~30 % more
     * host CPU with the default (see the xen-core README, "Boot time").
     * <li>{@code -XX:+UseSerialGC}: one vCPU thread allocates almost nothing; the serial collector has the
     * smallest footprint and no concurrent GC threads competing with vCPUs.
     * <li>{@code -Xss4m}: kept from the first runner: a margin for deep call chains; stack pages cost only when
     * touched.
     * <li>{@code -Xms16m}: the default initial heap (1/64 of host RAM) lets the young generation grow to tens of MiB
     * that boot-time garbage touches once and that then stay resident; the heap still grows on demand (the
     * maximum stays the JVM default, as per-page tables scale with guest RAM). An idle 256 MiB domain: ~30 MiB less
     * RSS.
     * <li>{@code -XX:TrimNativeHeapInterval=5000}: returns freed malloc memory (C2's compile arenas at boot) to
     * the OS every 5 s: ~20 MiB less RSS for an idle domain, for a negligible periodic {@code malloc_trim}.
     * <li>{@code -XX:MetaspaceSize=64m}: a runner's class metadata settles at 19-23 MiB, right at the default
     * first threshold (~21 MiB) at which HotSpot runs a full collection: 57 and 116 ms stop-the-world pauses
     * ({@code Pause Full (Metadata GC Threshold)}) fell into migrations in {@code -Xlog:gc} of the
     * migrate-vs-qemu benchmark. It is only the trigger: metaspace is still committed as it is used.
     * </ul>
     */
    public static List<String> runnerJvmOptions() {
        return List.of("--enable-native-access=ALL-UNNAMED", "-Xss4m", "-XX:+UseSerialGC",
                "-XX:PerMethodTrapLimit=0", "-Xms16m", "-XX:TrimNativeHeapInterval=5000", "-XX:MetaspaceSize=64m");
    }

    /** The command line of a runner for {@code config}. */
    List<String> command(DomainConfig config, boolean paused) {
        List<String> args = new ArrayList<>(List.of("--config", config.source().toString()));
        if (paused) {
            args.add("--paused");
        }
        return runnerCommand(config.name(), args);
    }

    private List<String> runnerCommand(String name, List<String> args) {
        List<String> cmd = new ArrayList<>();
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                // A session of its own: Ctrl-C or a closed terminal of xl never reaches the domain.
                cmd.add(setsid);
                break;
            }
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(runnerJvmOptions());
        cmd.add("-Ddomus.domain=" + name);
        String extra = env.getOrDefault(JAVA_OPTS_ENV, "").strip();
        if (!extra.isEmpty()) {
            cmd.addAll(List.of(extra.split("\\s+")));
        }
        String cp = runnerClassPath();
        cmd.addAll(aotCacheOptions(cp));
        cmd.add("-cp");
        cmd.add(cp);
        cmd.add(DomainRunner.class.getName());
        cmd.addAll(args);
        cmd.add("--run-dir");
        cmd.add(runDir.path().toString());
        return cmd;
    }

    /**
     * What a standby runner runs before it reports ready: {@code snapshot} restored under the configuration file
     * {@code config} (same shape as the snapshot; its own scratch disks and an unattached tap), {@code line} sent on
     * the control channel (empty: none), then run until {@code until} appears on its console (empty: until it ends)
     * or {@code timeout}. The machine is never registered in the run directory.
     */
    public record Warmup(Path snapshot, Path config, String line, String until, Duration timeout) {
        public Warmup {
            if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
                throw new DomainException(DomainException.BAD_ARGUMENT, "warm-up line must be one line");
            }
            if (timeout.isNegative() || timeout.isZero() || timeout.toSeconds() > 3600) {
                throw new DomainException(DomainException.BAD_ARGUMENT, "warm-up timeout must be 1..3600 s, got "
                        + timeout);
            }
        }
    }

    /**
     * Starts a standby runner: a runner JVM with no domain yet that warms up first (optional, see {@link Warmup})
     * and then waits to restore a snapshot on {@link Standby#restore}, so that restore pays neither the JVM start nor
     * HotSpot's warm-up. It holds no name, socket or pid file in the run directory ({@code xl list} and adoption never
     * see it) until it has taken over a domain; it ends by itself when this process closes it or dies. Its log is
     * {@code <run dir>/standby/<id>.log} until the take-over, then the domain's {@code <name>.log}.
     *
     * @throws DomainException {@code launch} when the runner died or did not report ready within
     *                         {@code readyTimeout} (warm-up included)
     */
    public Standby standby(java.util.Optional<Warmup> warmup, Duration readyTimeout) {
        runDir.create();
        List<String> args = new ArrayList<>(List.of(StandbyRunner.FLAG));
        warmup.ifPresent(w -> args.addAll(List.of("--warmup", w.snapshot().toAbsolutePath().toString(),
                "--warmup-config", w.config().toAbsolutePath().toString(), "--warmup-line", w.line(),
                "--warmup-until", w.until(), "--warmup-timeout", Long.toString(Math.max(1, w.timeout().toSeconds())))));
        Path dir = runDir.path().resolve("standby");
        Path log;
        try {
            Files.createDirectories(dir);
            log = Files.createTempFile(dir, "standby-", ".log");
        } catch (IOException e) {
            throw new DomainException(DomainException.LAUNCH, "standby", "cannot create a standby log in " + dir
                    + ": " + e.getMessage(), e);
        }
        List<String> cmd = new ArrayList<>();
        boolean low = canRaisePriority();
        if (low) {
            // Warming up and idling at the lowest CPU priority: a refill never slows the domains that run (a warm-up
            // is a whole guest boot); Standby.restore raises it back before the domain's machine is built.
            cmd.addAll(List.of(NICE, "-n", "19"));
        }
        cmd.addAll(runnerCommand("standby", args));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectOutput(ProcessBuilder.Redirect.PIPE);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            deleteQuietly(log);
            throw new DomainException(DomainException.LAUNCH, "standby", "cannot start a standby runner: "
                    + e.getMessage(), e);
        }
        if (low) {
            autogroupNice(p.pid(), 19);
        }
        Standby s = new Standby(p, log, low);
        String line = s.next(readyTimeout);
        if (line != null && line.startsWith("standby ")) {
            int sp = line.indexOf(' ', "standby ".length());
            s.info = sp < 0 ? "" : line.substring(sp + 1).strip();
            return s;
        }
        s.close();
        throw new DomainException(DomainException.LAUNCH, line == null || line.isEmpty()
                ? "the standby runner exited or hung before it was ready; see " + log
                : "standby runner: " + line);
    }

    /** A standby runner (see {@link #standby}); restores one snapshot, once. Not thread-safe. */
    public final class Standby implements AutoCloseable {
        private final Process process;
        private final Path log;
        private final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        private final boolean lowPriority;
        private boolean used;
        private String info = "";

        private Standby(Process process, Path log, boolean lowPriority) {
            this.process = process;
            this.log = log;
            this.lowPriority = lowPriority;
            Thread.ofVirtual().name("standby-" + process.pid()).start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        // JVM warnings also reach stdout; the protocol lines are these three.
                        if (l.startsWith("standby ") || l.startsWith("ready ") || l.startsWith("error ")) {
                            lines.add(l);
                        }
                    }
                } catch (IOException e) {
                    // end of the pipe: reported below as end of stream
                }
                lines.add("");
            });
        }

        public long pid() {
            return process.pid();
        }

        /** What the runner reported with its ready line, e.g. {@code warmup=marker warmup_ms=2140}. */
        public String info() {
            return info;
        }

        /** Still usable: not used and the process is alive. */
        public boolean isAlive() {
            return !used && process.isAlive();
        }

        /**
         * Has this runner restore {@code snapshot} (under {@code config} when present), exactly as
         * {@link DomainLauncher#restore(Path, java.util.Optional, boolean, Duration)} would with a new runner. A
         * refusal before the command is sent ({@code snapshot}, {@code config}, {@code exists}) leaves the standby
         * usable; once sent, it is used whatever the outcome.
         */
        public Launched restore(Path snapshot, java.util.Optional<DomainConfig> config, boolean paused,
                                Duration readyTimeout) {
            if (used) {
                throw new DomainException(DomainException.LAUNCH, "this standby runner was already used");
            }
            Path abs = snapshot.toAbsolutePath().normalize();
            DomainConfig saved = DomainRecord.decode(DomainRunner.readSnapshot(abs).state().domain());
            DomainConfig effective = config.isPresent() ? RestoreConfig.check(saved, config.get()) : saved;
            String name = effective.name();
            runDir.checkSocketPaths(name);
            if (runDir.isHeld(name)) {
                throw new DomainException(DomainException.EXISTS, name, "domain '" + name + "' already exists");
            }
            String cmd = StandbyRunner.Restore.format(abs, config.map(DomainConfig::source), paused);
            used = true;
            if (lowPriority) {
                normalPriority(process.pid());
            }
            try {
                var in = process.getOutputStream();
                in.write((cmd + "\n").getBytes(StandardCharsets.UTF_8));
                in.close();
            } catch (IOException e) {
                process.destroy();
                throw new DomainException(DomainException.LAUNCH, name, "the standby runner " + process.pid()
                        + " is gone: " + e.getMessage());
            }
            String line = next(readyTimeout);
            if (line != null && line.startsWith("ready ")) {
                // From here on the runner logs to <name>.log; the standby log held only its warm-up.
                deleteQuietly(log);
                return new Launched(name, process.pid(), process);
            }
            if (line == null) {
                process.destroy();
                throw new DomainException(DomainException.LAUNCH, name, "the standby runner of domain '" + name
                        + "' did not become ready within " + readyTimeout.toSeconds() + " s; see " + log);
            }
            if (line.startsWith("error ")) {
                String rest = line.substring(6);
                int sp = rest.indexOf(' ');
                reap(process);
                throw new DomainException(sp < 0 ? DomainException.LAUNCH : rest.substring(0, sp), name,
                        sp < 0 ? rest : rest.substring(sp + 1));
            }
            int status = reap(process);
            throw new DomainException(DomainException.LAUNCH, name, "the standby runner exited"
                    + (status >= 0 ? " with status " + status : "") + " before it was ready; see " + log);
        }

        /** The next protocol line; "" at end of stream, null on timeout. */
        private String next(Duration timeout) {
            try {
                return lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        /** Ends an unused standby runner (closing its stdin is enough; it is killed if it lingers). */
        @Override
        public void close() {
            if (used) {
                return;
            }
            used = true;
            try {
                process.getOutputStream().close();
            } catch (IOException e) {
                // already gone
            }
            try {
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
            deleteQuietly(log);
        }
    }

    private static final String NICE = "/usr/bin/nice";
    private static final String RENICE = "/usr/bin/renice";

    /**
     * Whether a standby may start at nice 19: only when {@code renice} can take it back to 0 (root; an unprivileged
     * process may lower its priority but never raise it again), else the domain would run slowed down for good.
     */
    static boolean canRaisePriority() {
        if (!Files.isExecutable(Path.of(NICE)) || !Files.isExecutable(Path.of(RENICE))) {
            return false;
        }
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("Uid:")) {
                    return l.substring(4).trim().split("\\s+")[1].equals("0");
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: stay at normal priority
        }
        return false;
    }

    /**
     * Nice 0 for every thread of {@code pid} (Linux priorities are per thread: the JIT compiler threads as much as the
     * main thread, whose value the machine's threads inherit). Best effort: a failure is logged by the runner's
     * caller only as a slower domain.
     */
    static void normalPriority(long pid) {
        autogroupNice(pid, 0);
        List<String> cmd = new ArrayList<>(List.of(RENICE, "-n", "0", "-p"));
        try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks) {
                cmd.add(t.getFileName().toString());
            }
        } catch (IOException e) {
            return; // gone: the restore below reports it
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            // renice missing: the domain runs at the standby's priority
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sets the nice value of {@code pid}'s scheduler autogroup. With {@code sched_autogroup_enabled} (Debian's
     * default) every session is its own group and groups share the CPUs fairly whatever their threads' nice values,
     * so a standby that {@code setsid}s away would compete with the running domains as an equal despite nice 19.
     * Waits (bounded) until the child has left our session's group: writing earlier would renice ours. Best effort.
     */
    static void autogroupNice(long pid, int nice) {
        Path theirs = Path.of("/proc", Long.toString(pid), "autogroup");
        try {
            String ours = groupName(Files.readString(Path.of("/proc/self/autogroup")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (groupName(Files.readString(theirs)).equals(ours)) {
                if (System.nanoTime() > deadline) {
                    return; // still in our group (no setsid): leave the group alone
                }
                Thread.sleep(5);
            }
            Files.writeString(theirs, Integer.toString(nice));
        } catch (IOException | RuntimeException e) {
            // no autogroup support or the process is gone: per-thread nice is all there is
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String groupName(String autogroupLine) {
        int sp = autogroupLine.indexOf(' ');
        return sp < 0 ? autogroupLine.strip() : autogroupLine.substring(0, sp);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a leftover log costs only disk space
        }
    }

    /** The clean-up journal of the mirrored disks of the incoming runner on {@code listen}. */
    static Path incomingDiskJournal(RunDir runDir, String listen) {
        return runDir.path().resolve("incoming-" + listen.replaceAll("[^A-Za-z0-9_.-]", "_") + ".disks");
    }

    /**
     * Starts a runner that listens on {@code listen} (host:port) for one incoming live migration and waits until
     * the migrated domain runs there (or the migration failed, which is the runner's error line).
     */
    public Launched receiveMigration(String listen, Duration timeout) {
        return receiveMigration(listen, timeout, java.util.Optional.empty());
    }

    /** Like {@link #receiveMigration(String, Duration)}; mirrored disks are written into {@code diskDir}. */
    public Launched receiveMigration(String listen, Duration timeout, java.util.Optional<Path> diskDir) {
        return receiveMigration(listen, timeout, diskDir, java.util.Optional.empty());
    }

    /**
     * Like {@link #receiveMigration(String, Duration, java.util.Optional)}; with {@code config} the runner builds
     * that domain while it listens (logging {@code event=migration_prebuilt} once built and warmed) and refuses a
     * source whose domain differs from it. Not together with {@code diskDir}.
     */
    public Launched receiveMigration(String listen, Duration timeout, java.util.Optional<Path> diskDir,
                                     java.util.Optional<DomainConfig> config) {
        DomainRunner.parseHostPort(listen);
        if (diskDir.isPresent() && config.isPresent()) {
            throw new DomainException(DomainException.BAD_ARGUMENT, "a domain built ahead (--config) takes no"
                    + " mirrored disks (--disk-dir)");
        }
        runDir.create();
        Path log = runDir.path().resolve("incoming-" + listen.replaceAll("[^A-Za-z0-9_.-]", "_") + ".log");
        List<String> args = new ArrayList<>(List.of("--incoming", listen));
        diskDir.ifPresent(d -> args.addAll(List.of("--disk-dir", d.toAbsolutePath().toString())));
        config.ifPresent(c -> args.addAll(List.of("--config", c.source().toString())));
        Process p = startRunner(runnerCommand("incoming", args), "incoming", log);
        String line = handshake(p, "incoming", timeout, log);
        if (line != null && line.startsWith("ready ")) {
            return new Launched("incoming", Long.parseLong(line.substring(6).strip()), p);
        }
        // The runner failed or died (kill -9): delete the half-copied disks it journalled.
        reap(p);
        dev.domus.xen.migration.MigrationTarget.discardJournal(incomingDiskJournal(runDir, listen));
        if (line != null && line.startsWith("error ")) {
            String rest = line.substring(6);
            int sp = rest.indexOf(' ');
            reap(p);
            throw new DomainException(sp < 0 ? DomainException.LAUNCH : rest.substring(0, sp),
                    sp < 0 ? rest : rest.substring(sp + 1));
        }
        reap(p);
        throw new DomainException(DomainException.LAUNCH, "the incoming migration runner exited; see " + log);
    }

    /**
     * The class path for a runner. A jar is first copied into {@code <run dir>/lib/} under a name derived from its
     * content: runners live for months, and a rebuild rewriting {@code target/xen-core.jar} under a running JVM
     * breaks its lazy class loading.
     */
    String runnerClassPath() {
        String cp = classPath();
        Path jar = Path.of(cp);
        if (!cp.endsWith(".jar") || !Files.isRegularFile(jar)) {
            return cp;
        }
        try {
            byte[] bytes = Files.readAllBytes(jar);
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
            String name = "xen-core-" + java.util.HexFormat.of().formatHex(digest, 0, 8) + ".jar";
            Path lib = runDir.path().resolve("lib");
            Path copy = lib.resolve(name);
            if (!Files.isRegularFile(copy)) {
                Files.createDirectories(lib);
                Path tmp = Files.createTempFile(lib, name, ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, copy, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                removeOldJars(lib, copy);
            }
            return copy.toString();
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            return cp;
        }
    }

    /**
     * JDK 25 AOT cache next to the runner's jar copy: classes pre-linked and method profiles from an earlier run,
     * so a new domain reaches compiled code sooner (boot to the guest's ready marker ~20 % faster). The first runner
     * for a jar records the cache when it exits; one at a time (the {@code .training} marker), the others run
     * without. A missing or stale cache only costs that speed-up: the JVM then runs normally.
     */
    static List<String> aotCacheOptions(String classPath) {
        if (!classPath.endsWith(".jar") || Boolean.getBoolean("domus.aot.disabled")) {
            return List.of();
        }
        Path aot = Path.of(classPath.substring(0, classPath.length() - 4) + ".aot");
        if (Files.isRegularFile(aot)) {
            return List.of("-XX:AOTCache=" + aot);
        }
        try {
            Files.createFile(Path.of(aot + ".training"));
            return List.of("-XX:AOTCacheOutput=" + aot);
        } catch (IOException e) {
            return List.of(); // another runner is recording it, or the directory is read-only
        }
    }

    /**
     * Deletes earlier copies. Running runners keep their jar open, so unlinking it is safe on Linux; only copies
     * older than a few minutes are touched so a runner that is just starting has surely opened its own.
     */
    private static void removeOldJars(Path lib, Path keep) {
        java.time.Instant cutoff = java.time.Instant.now().minus(Duration.ofMinutes(10));
        try (var files = Files.newDirectoryStream(lib, "xen-core-*.{jar,aot,training}")) {
            for (Path p : files) {
                String base = keep.getFileName().toString().replace(".jar", "");
                if (!p.getFileName().toString().startsWith(base)
                        && Files.getLastModifiedTime(p).toInstant().isBefore(cutoff)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            // a leftover jar costs only disk space
        }
    }

    /** Where this class was loaded from (the jar or classes directory), else the JVM's class path. */
    static String classPath() {
        try {
            var src = DomainRunner.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                return Path.of(src.getLocation().toURI()).toString();
            }
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            // fall back below
        }
        return System.getProperty("java.class.path");
    }

    private static String handshake(Process p, String name, Duration timeout, Path log) {
        CompletableFuture<String> line = new CompletableFuture<>();
        Thread.ofVirtual().name("handshake-" + name).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                // The JVM's own warnings (unified logging, e.g. about an AOT cache being rewritten by another
                // runner) also go to stdout: skip them, the handshake line is the first "ready"/"error" line.
                String l;
                do {
                    l = r.readLine();
                } while (l != null && !l.startsWith("ready ") && !l.startsWith("error "));
                line.complete(l);
            } catch (IOException e) {
                line.complete(null);
            }
        });
        try {
            return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            p.destroy();
            throw new DomainException(DomainException.LAUNCH, name, "the runner of domain '" + name
                    + "' did not become ready within " + timeout.toSeconds() + " s; see " + log);
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroy();
            throw new DomainException(DomainException.LAUNCH, name, "interrupted while starting '" + name + "'");
        }
    }

    private static int reap(Process p) {
        try {
            if (p.waitFor(10, TimeUnit.SECONDS)) {
                return p.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }
}
