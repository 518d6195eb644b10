// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import dev.domus.xen.testing.StreamCapture;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.domain.DomainConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save, checkpoint and restore of a busy guest through the real {@code bin/xl}: a shell loop prints a counter while
 * another loop keeps dirtying tmpfs; after {@code xl save} and {@code xl restore} the counter continues where it
 * stopped. Damaged snapshots are refused by {@code xl restore} and leave no runner behind.
 */
class SaveRestoreIT {
    private static final String NAME = "saverestore-it";
    private static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("domus.it.timeout.seconds", 900));
    private static final Pattern COUNT = Pattern.compile("COUNT=(\\d+)\\r?\\n");

    @TempDir
    Path tmp;

    private final Path repo = repoRoot();
    private final Map<String, String> env = new HashMap<>();
    private final List<Process> started = new ArrayList<>();

    private static Path repoRoot() {
        String prop = System.getProperty("domus.repo.root");
        Path p = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        while (p != null && !Files.isExecutable(p.resolve("bin/xl"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find bin/xl above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : started) {
            p.destroyForcibly();
        }
        if (!env.isEmpty()) {
            xl(Duration.ofSeconds(60), "destroy", NAME);
        }
    }

    private static List<Integer> counts(String out) {
        List<Integer> l = new ArrayList<>();
        Matcher m = COUNT.matcher(out);
        while (m.find()) {
            l.add(Integer.parseInt(m.group(1)));
        }
        return l;
    }

    private static int last(StreamCapture c) {
        List<Integer> l = counts(c.toString());
        return l.isEmpty() ? -1 : l.getLast();
    }

    private static boolean awaitCount(StreamCapture c, int atLeast, Duration timeout) throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        while (last(c) < atLeast && Instant.now().isBefore(deadline)) {
            c.awaitContains("\u0000never", Duration.ofMillis(500));
        }
        return last(c) >= atLeast;
    }

    private StreamCapture attach() throws Exception {
        Process console = start("console", NAME);
        StreamCapture out = StreamCapture.of(console.getInputStream());
        StreamCapture err = StreamCapture.of(console.getErrorStream());
        assertThat(err.awaitContains("Connected to domain '" + NAME + "'", Duration.ofMinutes(2)))
                .as("xl console attached: %s", err).isTrue();
        return out;
    }

    @Test
    void busyGuestIsCheckpointedSavedAndRestoredAndItsCounterContinues() throws Exception {
        env.put("DOMUS_RUN_DIR", tmp.resolve("run").toString());
        env.put("DOMUS_GUEST_DIR", guestDir());
        DomainConfig demo = DomainConfig.load(repo.resolve("deploy/xl/demo.cfg"), env);
        String script = "mkdir -p /tmp/busy; (while true; do dd if=/dev/urandom of=/tmp/busy/f bs=4k count=64 "
                + "2>/dev/null; done) &\n"
                + "i=0; while true; do i=$((i+1)); echo COUNT=$i; sleep 0.2; done\n";
        String run64 = Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        Path cfg = tmp.resolve(NAME + ".cfg");
        Files.writeString(cfg, "name = '" + NAME + "'\nmemory = 128\nvcpus = 1\n"
                + "kernel = '" + demo.kernel() + "'\n"
                + demo.ramdisk().map(r -> "ramdisk = '" + r + "'\n").orElse("")
                + "extra = 'console=ttyS0 domus.run64=" + run64 + "'\n"
                + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = 'destroy'\n");

        Result create = xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status).as("xl create: %s", create.err).isZero();
        StreamCapture out = attach();
        assertThat(xl(Duration.ofMinutes(2), "unpause", NAME).status).isZero();
        assertThat(awaitCount(out, 5, TIMEOUT)).as("guest counts:%n%s", out).isTrue();

        // Checkpoint: the file appears and the guest keeps counting.
        Path cp = tmp.resolve("cp.snap");
        Result check = xl(Duration.ofMinutes(5), "save", "--checkpoint", NAME, cp.toString());
        assertThat(check.status).as("xl save --checkpoint: %s", check.err).isZero();
        assertThat(check.err).contains("checkpointed");
        int atCheckpoint = last(out);
        assertThat(awaitCount(out, atCheckpoint + 5, Duration.ofMinutes(3))).as("counting after checkpoint:%n%s",
                out).isTrue();
        assertThat(Files.size(cp)).isGreaterThan(1 << 20).isLessThan(128L << 20);

        // Save: the domain ends.
        Path snap = tmp.resolve("dom.snap");
        Result save = xl(Duration.ofMinutes(5), "save", NAME, snap.toString());
        assertThat(save.status).as("xl save: %s", save.err).isZero();
        awaitGone();
        int atSave = last(out);
        assertThat(atSave).isGreaterThan(atCheckpoint);

        // Restore (paused, so the console is attached before the first line) and the counter continues.
        Result restore = xl(Duration.ofMinutes(5), "restore", "-p", snap.toString());
        assertThat(restore.status).as("xl restore: %s", restore.err).isZero();
        StreamCapture after = attach();
        assertThat(xl(Duration.ofMinutes(2), "unpause", NAME).status).isZero();
        assertThat(awaitCount(after, atSave + 5, Duration.ofMinutes(3))).as("after restore (saved at %d):%n%s",
                atSave, after).isTrue();
        List<Integer> resumed = counts(after.toString());
        assertThat(resumed.getFirst()).as("first count after restore, saved at %d", atSave)
                .isGreaterThan(atSave).isLessThanOrEqualTo(atSave + 2);
        for (int i = 1; i < resumed.size(); i++) {
            assertThat(resumed.get(i)).as("counter step %d", i).isEqualTo(resumed.get(i - 1) + 1);
        }
        Result list = xl(Duration.ofMinutes(1), "list");
        assertThat(list.out).contains(NAME);
        assertThat(xl(Duration.ofMinutes(1), "destroy", NAME).status).isZero();
        awaitGone();

        // Damaged snapshots: each refused with its own clear error, and no runner is left running.
        byte[] good = Files.readAllBytes(snap);
        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("truncated", Arrays.copyOf(good, good.length / 2));
        byte[] flipped = good.clone();
        flipped[good.length - 100] ^= 0x04;
        bad.put("checksum mismatch", flipped);
        byte[] version = good.clone();
        ByteBuffer.wrap(version).putInt(8, 99);
        bad.put("format version 99 is not supported", version);
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).putInt(12, 1 << 20);
        bad.put("section count", huge);
        for (Map.Entry<String, byte[]> e : bad.entrySet()) {
            Path f = tmp.resolve("bad.snap");
            Files.write(f, e.getValue());
            Result r = xl(Duration.ofMinutes(5), "restore", f.toString());
            assertThat(r.status).as("restore of a %s snapshot: %s", e.getKey(), r.err).isEqualTo(1);
            assertThat(r.err).contains("invalid snapshot").contains(e.getKey());
            assertThat(xl(Duration.ofMinutes(1), "list").out).doesNotContain(NAME);
        }
    }

    private void awaitGone() throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        String list;
        do {
            list = xl(Duration.ofMinutes(1), "list").out;
        } while (list.contains(NAME) && Instant.now().isBefore(deadline));
        assertThat(list).doesNotContain(NAME);
    }

    /** The guest image directory: $DOMUS_GUEST_DIR, else what deploy/guest/build reports (building it if needed). */
    private String guestDir() throws Exception {
        String fromEnv = System.getenv("DOMUS_GUEST_DIR");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return fromEnv;
        }
        Path build = repo.resolve("deploy/guest/build");
        assertThat(build).as("guest image builder").isExecutable();
        Result built = run(Duration.ofMinutes(30), List.of(build.toString()));
        assertThat(built.status).as("deploy/guest/build: %s", built.err).isZero();
        Result dir = run(Duration.ofMinutes(1), List.of(build.toString(), "--print-dir"));
        assertThat(dir.status).as("deploy/guest/build --print-dir: %s", dir.err).isZero();
        return dir.out.strip();
    }

    private record Result(int status, String out, String err) { }

    private Result xl(Duration timeout, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(repo.resolve("bin/xl").toString()));
        cmd.addAll(List.of(args));
        return run(timeout, cmd);
    }

    private Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(repo.resolve("bin/xl").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private Result run(Duration timeout, List<String> cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        StreamCapture out = StreamCapture.of(p.getInputStream());
        StreamCapture err = StreamCapture.of(p.getErrorStream());
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish within " + timeout + "; stderr: " + err);
        }
        out.join();
        err.join();
        started.remove(p);
        return new Result(p.exitValue(), out.toString(), err.toString());
    }

}
