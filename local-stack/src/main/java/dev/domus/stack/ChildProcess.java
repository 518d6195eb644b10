// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A service process (broker JVM, Keycloak) started by this JVM: output appended to a log file, stopped with
 * SIGTERM (then SIGKILL) together with its descendants, and made to die with this JVM.
 */
final class ChildProcess {

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    /**
     * Children are forked from this one thread, which never ends: Linux's parent-death signal (setpriv
     * --pdeathsig) fires when the forking *thread* exits, so a short-lived test thread would kill the child early.
     */
    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "domus-stack-spawner");
        t.setDaemon(true);
        return t;
    });

    private final String service;
    private final Process process;
    private final Path log;
    private final Thread hook;

    private ChildProcess(String service, Process process, Path log) {
        this.service = service;
        this.process = process;
        this.log = log;
        this.hook = new Thread(() -> stop(Duration.ofSeconds(20)), "domus-stack-stop-" + service);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts {@code command} in {@code workDir} with its stdout+stderr appended to {@code log}. */
    static ChildProcess start(String service, List<String> command, Path workDir, Map<String, String> env, Path log) {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            // If this JVM is killed hard (no shutdown hooks), the kernel still sends the child SIGTERM.
            cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "TERM", "--"));
        }
        cmd.addAll(command);
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, "---- start " + java.time.Instant.now() + " " + String.join(" ", command) + "\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new StackException(service, StackException.Code.START_FAILED, "cannot write log " + log, "", e);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        CompletableFuture<Process> started = CompletableFuture.supplyAsync(() -> {
            try {
                return pb.start();
            } catch (IOException e) {
                throw new StackException(service, StackException.Code.START_FAILED,
                        "cannot run " + command.getFirst() + ": " + e.getMessage(), "", e);
            }
        }, SPAWNER);
        try {
            return new ChildProcess(service, started.get(60, TimeUnit.SECONDS), log);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StackException se) {
                throw se;
            }
            throw new StackException(service, StackException.Code.START_FAILED, "cannot start", "", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException(service, StackException.Code.START_FAILED, "interrupted while starting");
        } catch (TimeoutException e) {
            throw new StackException(service, StackException.Code.START_FAILED, "fork did not return in 60 s");
        }
    }

    /** Runs a short command to completion (format, build, import); fails with the log tail on a non-zero exit. */
    static void run(String service, String what, List<String> command, Path workDir, Map<String, String> env,
                    Path log, Duration timeout) {
        ChildProcess p = start(service, command, workDir, env, log);
        try {
            if (!p.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.stop(Duration.ofSeconds(10));
                throw new StackException(service, StackException.Code.TIMEOUT,
                        what + " did not finish in " + timeout.toSeconds() + " s (log " + log + ")", p.tail(40), null);
            }
            int rc = p.process.exitValue();
            if (rc != 0) {
                throw new StackException(service, StackException.Code.START_FAILED,
                        what + " failed with exit code " + rc + " (log " + log + ")", p.tail(40), null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.stop(Duration.ofSeconds(10));
            throw new StackException(service, StackException.Code.START_FAILED, what + " interrupted");
        } finally {
            p.unhook();
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Exit code if the process has ended. */
    java.util.OptionalInt exitCode() {
        return process.isAlive() ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(process.exitValue());
    }

    Path log() {
        return log;
    }

    /**
     * Waits until {@code url} answers 200 with {@code bodyMarker} in its body, failing at once (with the log tail)
     * if this process exits meanwhile, and with a timeout naming {@code notReady} and the last answer at
     * {@code deadlineNanos} ({@link System#nanoTime()} scale).
     */
    void awaitHttp(HttpClient http, URI url, String bodyMarker, long deadlineNanos, Duration poll, String notReady) {
        String last = "no answer";
        while (System.nanoTime() < deadlineNanos) {
            if (!isAlive()) {
                throw new StackException(service, StackException.Code.START_FAILED, "exited with code "
                        + exitCode().orElse(-1) + " during start (log " + log + ")", tail(40), null);
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10)).GET()
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains(bodyMarker)) {
                    return;
                }
                last = "HTTP " + r.statusCode();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StackException(service, StackException.Code.START_FAILED, "interrupted while starting");
            }
            try {
                Thread.sleep(poll.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StackException(service, StackException.Code.START_FAILED, "interrupted while starting");
            }
        }
        throw new StackException(service, StackException.Code.TIMEOUT, notReady + " (last: " + last + "; log " + log
                + ")", tail(40), null);
    }

    /** SIGTERM to the process and its descendants, wait up to {@code grace}, then SIGKILL what is left. */
    synchronized void stop(Duration grace) {
        List<ProcessHandle> all = new ArrayList<>();
        process.descendants().forEach(all::add);
        all.add(process.toHandle());
        for (ProcessHandle h : all) {
            h.destroy();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle h : all) {
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                h.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                h.destroyForcibly();
            } catch (ExecutionException e) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Nothing more to do: SIGKILL was sent; the caller's next start reports a still-taken port.
            }
        }
    }

    /** SIGKILL of the process alone (not its descendants), for tests of what survives a hard crash. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        unhook();
    }

    /** Stops and removes the shutdown hook (normal close). */
    void close(Duration grace) {
        stop(grace);
        unhook();
    }

    private void unhook() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook runs (or ran) and stopping twice is harmless.
        }
    }

    /** The last {@code lines} lines of the log, for error messages. */
    String tail(int lines) {
        return tail(log, lines);
    }

    static String tail(Path file, int lines) {
        if (!Files.isRegularFile(file)) {
            return "";
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            int max = (int) Math.min(len, 64 * 1024);
            byte[] buf = new byte[max];
            f.seek(len - max);
            f.readFully(buf);
            String text = new String(buf, StandardCharsets.UTF_8);
            String[] all = text.split("\n", -1);
            int from = Math.max(0, all.length - lines - 1);
            StringBuilder sb = new StringBuilder("---- last lines of ").append(file).append(" ----\n");
            for (int i = from; i < all.length; i++) {
                sb.append("  | ").append(all[i]).append('\n');
            }
            return sb.toString();
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return service + " pid=" + process.pid();
    }
}
