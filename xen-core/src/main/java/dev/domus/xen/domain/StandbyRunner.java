// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.snapshot.SnapshotImage;
import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code DomainRunner --standby}: a runner JVM started ahead of need (see {@link DomainLauncher#standby}). It
 * optionally warms up first: it restores a snapshot into a throw-away machine that no run directory knows about
 * (no name lock, sockets or pid file), sends it one control line and runs it until a console marker, so HotSpot has
 * compiled the CPU engine, MMU and device paths a restored guest runs. Then it prints {@code standby <pid>} and waits
 * for one command on stdin:
 * <pre>restore TAB &lt;snapshot&gt; TAB &lt;config or empty&gt; TAB &lt;0|1 paused&gt;</pre>
 * which it serves exactly like {@code DomainRunner --restore <snapshot> [--config <cfg>] [--paused]}: it claims the
 * domain's name, binds its sockets, writes its pid file, prints {@code ready <pid>} (or {@code error <code> <msg>})
 * and from then on is an ordinary runner of that domain, logging to {@code <name>.log}. End of stdin before a command
 * (the launching process is gone or released it) ends the standby runner without a trace in the run directory.
 */
final class StandbyRunner {
    static final String FLAG = "--standby";
    /** The warm-up machine's budget when none is given. */
    static final Duration DEFAULT_WARMUP_TIMEOUT = Duration.ofSeconds(60);

    private StandbyRunner() {
    }

    /** A warm-up: restore {@code snapshot} under {@code config}, send {@code line} (may be empty), run until {@code until}. */
    record Warmup(Path snapshot, Path config, String line, String until, Duration timeout) { }

    /** The standby's command line after {@value #FLAG}, parsed. */
    record Args(Path runDir, Optional<Warmup> warmup) {
        static Args parse(String[] args) {
            Path runDir = null;
            Path snap = null;
            Path cfg = null;
            String line = "";
            String until = "";
            Duration timeout = DEFAULT_WARMUP_TIMEOUT;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case FLAG -> { }
                    case "--run-dir" -> runDir = Path.of(value(args, ++i, "--run-dir"));
                    case "--warmup" -> snap = Path.of(value(args, ++i, "--warmup"));
                    case "--warmup-config" -> cfg = Path.of(value(args, ++i, "--warmup-config"));
                    case "--warmup-line" -> line = value(args, ++i, "--warmup-line");
                    case "--warmup-until" -> until = value(args, ++i, "--warmup-until");
                    case "--warmup-timeout" -> {
                        String v = value(args, ++i, "--warmup-timeout");
                        try {
                            timeout = Duration.ofSeconds(Long.parseLong(v));
                        } catch (NumberFormatException e) {
                            timeout = Duration.ZERO;
                        }
                        if (timeout.isNegative() || timeout.isZero() || timeout.toSeconds() > 3600) {
                            throw new DomainException(DomainException.BAD_ARGUMENT,
                                    "--warmup-timeout must be 1..3600 seconds, got '" + v + "'");
                        }
                    }
                    default -> throw new DomainException(DomainException.BAD_ARGUMENT, "unknown argument '" + args[i]
                            + "'; usage: DomainRunner --standby [--warmup <snapshot> --warmup-config <cfg>"
                            + " [--warmup-line <text>] [--warmup-until <marker>] [--warmup-timeout <s>]]"
                            + " [--run-dir <dir>]");
                }
            }
            if ((snap == null) != (cfg == null)) {
                throw new DomainException(DomainException.BAD_ARGUMENT,
                        "--warmup and --warmup-config go together");
            }
            return new Args(runDir, snap == null ? Optional.empty()
                    : Optional.of(new Warmup(snap, cfg, line, until, timeout)));
        }
    }

    /** One {@code restore} command read from stdin. */
    record Restore(Path snapshot, Optional<Path> config, boolean paused) {
        static final String VERB = "restore";

        /** The command line for {@link #parse}; paths must not hold tabs or line breaks. */
        static String format(Path snapshot, Optional<Path> config, boolean paused) {
            for (Path p : config.isPresent() ? java.util.List.of(snapshot, config.get()) : java.util.List.of(snapshot)) {
                String s = p.toString();
                if (s.indexOf('\t') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
                    throw new DomainException(DomainException.BAD_ARGUMENT, "path " + s
                            + " holds a tab or line break");
                }
            }
            return VERB + "\t" + snapshot + "\t" + config.map(Path::toString).orElse("") + "\t" + (paused ? 1 : 0);
        }

        static Restore parse(String line) {
            String[] f = line.split("\t", -1);
            if (f.length != 4 || !f[0].equals(VERB) || f[1].isEmpty() || !(f[3].equals("0") || f[3].equals("1"))) {
                throw new DomainException(DomainException.BAD_ARGUMENT, "standby: expected 'restore TAB <snapshot>"
                        + " TAB <config> TAB 0|1', got '" + (line.length() > 200 ? line.substring(0, 200) : line)
                        + "'");
            }
            return new Restore(Path.of(f[1]), f[2].isEmpty() ? Optional.empty() : Optional.of(Path.of(f[2])),
                    f[3].equals("1"));
        }
    }

    /** The standby's whole life; returns the process exit status. */
    static int run(String[] args, PrintStream parent, InputStream commands) {
        Args a;
        try {
            a = Args.parse(args);
        } catch (DomainException e) {
            return fail(parent, e);
        }
        RunDir dir = a.runDir() == null ? RunDir.fromEnvironment() : RunDir.at(a.runDir());
        long pid = ProcessHandle.current().pid();
        String warm = a.warmup().map(StandbyRunner::warmUp).orElse("warmup=none");
        // The warm-up machine's heap garbage is gone for good: give it back before idling (SerialGC shrinks).
        System.gc();
        // "standby <pid> warmup=<outcome> warmup_ms=<n>": the launcher reports the rest of the line.
        parent.println("standby " + pid + " " + warm);
        parent.flush();
        Log.info("standby_ready", "pid", pid, "run_dir", dir);
        String line;
        try {
            line = new BufferedReader(new InputStreamReader(commands, StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
            line = null;
        }
        if (line == null) {
            Log.info("standby_released", "pid", pid);
            parent.close();
            return DomainRunner.EXIT_POWEROFF;
        }
        DomainRunner runner;
        try {
            runner = takeOver(Restore.parse(line), dir);
        } catch (DomainException e) {
            return fail(parent, e);
        } catch (RuntimeException | Error e) {
            return fail(parent, new DomainException(DomainException.INTERNAL, "standby runner failed to restore: "
                    + e));
        }
        parent.println("ready " + pid);
        parent.close();
        Runtime.getRuntime().addShutdownHook(new Thread(runner::terminate, "sigterm"));
        int status;
        try {
            status = runner.awaitExit();
        } catch (InterruptedException e) {
            status = DomainRunner.EXIT_ERROR;
        }
        runner.close();
        return status;
    }

    /**
     * The restore of {@code --restore <snapshot> [--config <cfg>]}; from here on the logs go to the domain's own
     * {@code <name>.log}, as for a runner started for it.
     */
    static DomainRunner takeOver(Restore r, RunDir dir) {
        SnapshotImage image = DomainRunner.readSnapshot(r.snapshot());
        DomainConfig config = DomainRecord.decode(image.state().domain());
        if (r.config().isPresent()) {
            config = RestoreConfig.check(config, DomainConfig.load(r.config().get()));
        }
        dir.checkSocketPaths(config.name());
        dir.create();
        try {
            PrintStream log = new PrintStream(new FileOutputStream(dir.logFile(config.name()).toFile(), true), true,
                    StandardCharsets.UTF_8);
            System.setErr(log);
            System.setOut(log);
            Log.redirect(log);
        } catch (IOException e) {
            Log.warn("standby_log_redirect_failed", "domain", config.name(), "error", e.getMessage());
        }
        Log.info("standby_takeover", "domain", config.name(), "snapshot", r.snapshot());
        return DomainRunner.start(config, dir, DomainRunner.restoringFactory(image), r.paused());
    }

    /**
     * Runs the warm-up machine; best effort (a failure only costs the speed-up and is logged). The machine is never
     * registered in a run directory, so nothing can list, adopt or connect to it.
     */
    static String warmUp(Warmup w) {
        long t0 = System.nanoTime();
        Domain d = null;
        String outcome;
        try {
            SnapshotImage image = DomainRunner.readSnapshot(w.snapshot());
            DomainConfig config = RestoreConfig.check(DomainRecord.decode(image.state().domain()),
                    DomainConfig.load(w.config()));
            CompletableFuture<String> seen = new CompletableFuture<>();
            MarkerScanner scanner = new MarkerScanner(w.until(), seen);
            d = new Domain(config, DomainRunner.restoringFactory(image), scanner::feed,
                    ProcessHandle.current().pid(), Clock.systemUTC());
            d.start(false);
            if (!w.line().isEmpty()) {
                d.controlLine(w.line());
            }
            d.exitCode().thenAccept(code -> seen.complete("exited status=" + code));
            outcome = seen.get(w.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            outcome = "timeout";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = "interrupted";
        } catch (ExecutionException | RuntimeException e) {
            outcome = "failed: " + (e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            if (d != null) {
                d.destroy();
                try {
                    d.exitCode().get(10, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    // closed below either way
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                d.close();
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Log.info("standby_warmup", "outcome", outcome, "ms", ms);
        return "warmup=" + outcome.replaceAll("[^A-Za-z0-9=._:-]+", "_") + " warmup_ms=" + ms;
    }

    /** Completes {@code seen} when the console output contains {@code marker} (empty: never). */
    static final class MarkerScanner {
        private final byte[] marker;
        private final CompletableFuture<String> seen;
        private int matched;

        MarkerScanner(String marker, CompletableFuture<String> seen) {
            this.marker = marker.getBytes(StandardCharsets.UTF_8);
            this.seen = seen;
        }

        /** Called on machine threads; a plain scan, no allocation. */
        synchronized void feed(byte[] data, int off, int len) {
            if (marker.length == 0 || seen.isDone()) {
                return;
            }
            for (int i = off; i < off + len; i++) {
                byte b = data[i];
                if (b == marker[matched]) {
                    matched++;
                } else {
                    // Markers are line-like strings without repeated prefixes worth a KMP table: restart the match.
                    matched = b == marker[0] ? 1 : 0;
                }
                if (matched == marker.length) {
                    seen.complete("marker");
                    return;
                }
            }
        }
    }

    private static int fail(PrintStream parent, DomainException e) {
        Log.error("standby_failed", "code", e.code(), "error", e.getMessage());
        parent.println("error " + e.code() + " " + e.getMessage().replace('\n', ' '));
        parent.close();
        return DomainRunner.EXIT_ERROR;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new DomainException(DomainException.BAD_ARGUMENT, flag + " needs a value");
        }
        return args[i];
    }
}
