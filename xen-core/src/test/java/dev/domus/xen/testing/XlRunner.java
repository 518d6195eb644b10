// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Drives the real {@code bin/xl} for the integration tests of one "host" (one run directory, optionally inside a
 * network namespace through a {@link Launcher}): runs commands to completion with their output captured, starts
 * long-running ones (console, migrate-receive), attaches consoles and waits for counter lines, always with
 * timeouts. {@link #close()} kills what it started and is still running.
 */
public final class XlRunner implements AutoCloseable {
    /** Starts a command with extra environment variables (a namespace's {@code ip netns exec}, or plain). */
    @FunctionalInterface
    public interface Launcher {
        Process start(List<String> command, Map<String, String> env) throws IOException;
    }

    /** A finished command. */
    public record Result(int status, String out, String err) { }

    private final Path repo;
    private final Map<String, String> env;
    private final Launcher launcher;
    private final List<Process> started = new CopyOnWriteArrayList<>();

    private XlRunner(Path repo, Map<String, String> env, Launcher launcher) {
        this.repo = repo;
        this.env = Map.copyOf(env);
        this.launcher = launcher;
    }

    /** Runs {@code bin/xl} in the repository root with {@code env} added, stdin from /dev/null. */
    public static XlRunner of(Map<String, String> env) {
        Path repo = repoRoot();
        return new XlRunner(repo, env, local(repo));
    }

    /** Starts commands in {@code dir} as plain children of this JVM, stdin from /dev/null. */
    public static Launcher local(Path dir) {
        return (cmd, e) -> {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(e);
            return pb.start();
        };
    }

    /** Runs {@code bin/xl} through {@code launcher} (e.g. inside a network namespace) with {@code env} added. */
    public static XlRunner of(Map<String, String> env, Launcher launcher) {
        return new XlRunner(repoRoot(), env, launcher);
    }

    /** The checkout holding {@code bin/xl}: {@code domus.repo.root}, else the nearest parent of the working dir. */
    public static Path repoRoot() {
        String prop = System.getProperty("domus.repo.root");
        Path p = prop != null ? Path.of(prop).toAbsolutePath() : Path.of("").toAbsolutePath();
        while (p != null && !Files.isExecutable(p.resolve("bin/xl"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find bin/xl above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    /** The guest image directory: $DOMUS_GUEST_DIR, else what {@code deploy/guest/build --print-dir} reports. */
    public static Path guestDir() throws Exception {
        String fromEnv = System.getenv("DOMUS_GUEST_DIR");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return Path.of(fromEnv);
        }
        Path build = repoRoot().resolve("deploy/guest/build");
        assertThat(build).as("guest image builder").isExecutable();
        Result dir = of(Map.of()).run(Duration.ofMinutes(40), List.of(build.toString(), "--print-dir"));
        assertThat(dir.status()).as("deploy/guest/build --print-dir: %s", dir.err()).isZero();
        return Path.of(dir.out().strip());
    }

    public Path repo() {
        return repo;
    }

    /** Runs {@code xl args} to completion; fails the test when it takes longer than {@code timeout}. */
    public Result xl(Duration timeout, String... args) throws Exception {
        return run(timeout, command(args));
    }

    /** Starts {@code xl args} and leaves it running (killed by {@link #close()} if still alive). */
    public Process start(String... args) throws IOException {
        Process p = launcher.start(command(args), env);
        started.add(p);
        return p;
    }

    /** Starts {@code xl console name} and waits until it is attached; returns the console's output. */
    public StreamCapture attachConsole(String name, Duration timeout) throws Exception {
        return attach(start("console", name), name, timeout);
    }

    /** Waits until {@code console} (an {@code xl console name} process) is attached; returns its output. */
    public static StreamCapture attach(Process console, String name, Duration timeout) throws Exception {
        StreamCapture out = StreamCapture.of(console.getInputStream());
        StreamCapture err = StreamCapture.of(console.getErrorStream());
        assertThat(err.awaitContains("Connected to domain '" + name + "'", timeout))
                .as("xl console attached: %s", err).isTrue();
        return out;
    }

    /** Runs any command (not only xl) to completion through this runner's launcher. */
    public Result run(Duration timeout, List<String> cmd) throws Exception {
        return run(launcher, env, timeout, cmd, started);
    }

    /**
     * Runs {@code cmd} through {@code launcher} with {@code env} added to completion, output captured; fails the
     * test when it takes longer than {@code timeout}. The process is in {@code track} while it runs (so a
     * {@code close()} of its owner can kill it). The one process-run code of the xl-driving tests.
     */
    public static Result run(Launcher launcher, Map<String, String> env, Duration timeout, List<String> cmd,
                             List<Process> track) throws Exception {
        Process p = launcher.start(cmd, env);
        track.add(p);
        StreamCapture out = StreamCapture.of(p.getInputStream());
        StreamCapture err = StreamCapture.of(p.getErrorStream());
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish within " + timeout + "; stderr: " + err);
        }
        out.join();
        err.join();
        track.remove(p);
        return new Result(p.exitValue(), out.toString(), err.toString());
    }

    private List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(repo.resolve("bin/xl").toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Every number captured by {@code p}'s first group in {@code out}, in order. */
    public static List<Integer> counts(String out, Pattern p) {
        List<Integer> l = new ArrayList<>();
        Matcher m = p.matcher(out);
        while (m.find()) {
            l.add(Integer.parseInt(m.group(1)));
        }
        return l;
    }

    /**
     * The numbers {@code p} matches in {@code after}, the console of a guest that moved (migrated, restored) and
     * printed {@code before} where it was: the line it was in the middle of when it paused (the text after
     * {@code before}'s last newline) is joined to the start of {@code after}, since the pause may fall between
     * two bytes of one line.
     */
    public static List<Integer> countsContinuing(String before, String after, Pattern p) {
        return counts(before.substring(before.lastIndexOf('\n') + 1) + after, p);
    }

    /** The last number {@code p} matched in what {@code c} captured, -1 before the first. */
    public static int last(StreamCapture c, Pattern p) {
        List<Integer> l = counts(c.toString(), p);
        return l.isEmpty() ? -1 : l.getLast();
    }

    /** Waits until the last counter {@code p} matched in {@code c} reaches {@code atLeast}; false on timeout. */
    public static boolean awaitCount(StreamCapture c, Pattern p, int atLeast, Duration timeout)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        while (last(c, p) < atLeast && Instant.now().isBefore(deadline)) {
            c.awaitContains("\u0000never", Duration.ofMillis(300));
        }
        return last(c, p) >= atLeast;
    }

    /** Waits until {@code xl list} no longer shows {@code name}; fails the test after {@code timeout}. */
    public void awaitGone(String name, Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        String list;
        do {
            list = xl(Duration.ofMinutes(1), "list").out();
        } while (list.contains(name) && Instant.now().isBefore(deadline));
        assertThat(list).doesNotContain(name);
    }

    /** Kills what this runner started and is still running, with their children. */
    @Override
    public void close() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        started.clear();
    }
}
