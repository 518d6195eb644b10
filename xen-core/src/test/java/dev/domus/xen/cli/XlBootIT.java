// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import dev.domus.xen.testing.StreamCapture;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.domain.DomainConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots the Domus guest image through the real {@code bin/xl}: create (paused), attach {@code xl console}, unpause,
 * wait for the guest's {@code domus.run64} script to report {@code DOMUS-RUN-EXIT=0}, then check the domain is gone
 * from {@code xl list}. Needs the CPU engine and the guest image ({@code deploy/guest/build}).
 */
class XlBootIT {
    private static final String NAME = "xlboot-it";
    private static final Duration TIMEOUT = Duration.ofSeconds(
            Long.getLong("domus.it.timeout.seconds", 900));

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
            xl(Duration.ofSeconds(60), "destroy", NAME); // ignore the outcome: usually already gone
        }
    }

    @Test
    void bootsTheGuestRunsAScriptAndVanishes() throws Exception {
        env.put("DOMUS_RUN_DIR", tmp.resolve("run").toString());
        env.put("DOMUS_GUEST_DIR", guestDir());
        DomainConfig demo = DomainConfig.load(repo.resolve("deploy/xl/demo.cfg"), env);

        String script = "echo DOMUS-XL-IT-MARKER-$((6*7))\n";
        String run64 = Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        Path cfg = tmp.resolve(NAME + ".cfg");
        Files.writeString(cfg, "name = '" + NAME + "'\n"
                + "memory = 256\n"
                + "vcpus = 1\n"
                + "kernel = '" + demo.kernel() + "'\n"
                + demo.ramdisk().map(r -> "ramdisk = '" + r + "'\n").orElse("")
                + "extra = 'console=ttyS0 earlycon=sbi domus.run64=" + run64 + "'\n"
                + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = 'destroy'\n" + engineLine());

        Result create = xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status).as("xl create: %s", create.err).isZero();

        Process console = start("console", NAME);
        StreamCapture out = StreamCapture.of(console.getInputStream());
        StreamCapture err = StreamCapture.of(console.getErrorStream());
        assertThat(err.awaitContains("Connected to domain '" + NAME + "'", Duration.ofMinutes(2)))
                .as("xl console attached: %s", err).isTrue();

        Result unpause = xl(Duration.ofMinutes(2), "unpause", NAME);
        assertThat(unpause.status).as("xl unpause: %s", unpause.err).isZero();

        assertThat(out.awaitContains("DOMUS-RUN-EXIT=0", TIMEOUT)).as("guest output:%n%s", out).isTrue();
        assertThat(out.toString()).contains("DOMUS-XL-IT-MARKER-42");
        assertThat(console.waitFor(2, TimeUnit.MINUTES)).as("xl console ends with the domain").isTrue();
        assertThat(console.exitValue()).isZero();

        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        String list;
        do {
            Result r = xl(Duration.ofMinutes(1), "list");
            assertThat(r.status).as("xl list: %s", r.err).isZero();
            list = r.out;
        } while (list.contains(NAME) && Instant.now().isBefore(deadline));
        assertThat(list).doesNotContain(NAME);
    }

    /** Writes a config for the test domain running {@code script}, with the given lifecycle policy. */
    private Path config(String script, String onCrash) throws Exception {
        env.put("DOMUS_RUN_DIR", tmp.resolve("run").toString());
        env.put("DOMUS_GUEST_DIR", guestDir());
        DomainConfig demo = DomainConfig.load(repo.resolve("deploy/xl/demo.cfg"), env);
        String run64 = Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        Path cfg = tmp.resolve(NAME + ".cfg");
        Files.writeString(cfg, "name = '" + NAME + "'\nmemory = 256\nvcpus = 1\n"
                + "kernel = '" + demo.kernel() + "'\n"
                + demo.ramdisk().map(r -> "ramdisk = '" + r + "'\n").orElse("")
                + "extra = 'console=ttyS0 domus.run64=" + run64 + "'\n"
                + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = '" + onCrash + "'\n" + engineLine());
        return cfg;
    }

    /** The CPU engine under test ({@code -Dit.cpu.engine}) as an xl.cfg line, so the domain runner uses it too. */
    private static String engineLine() {
        return "cpu_engine = '" + dev.domus.xen.api.CpuEngineKind.defaultKind().configName() + "'\n";
    }

    private static final String PANIC = "echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger\n";

    @Test
    void crashWithPreservePolicyKeepsTheDomainInStateCrashed() throws Exception {
        Path cfg = config(PANIC, "preserve");
        Result create = xl(Duration.ofMinutes(10), "create", cfg.toString());
        assertThat(create.status).as("xl create: %s", create.err).isZero();
        Instant deadline = Instant.now().plus(TIMEOUT);
        String list;
        do {
            list = xl(Duration.ofMinutes(1), "list").out;
        } while (!list.contains("----c-") && Instant.now().isBefore(deadline));
        assertThat(list).as("xl list").contains(NAME).contains("----c-");
        Result destroy = xl(Duration.ofMinutes(1), "destroy", NAME);
        assertThat(destroy.status).as("xl destroy: %s", destroy.err).isZero();
    }

    @Test
    void crashWithRestartPolicyBootsTheDomainAgain() throws Exception {
        Path cfg = config(PANIC, "restart");
        Result create = xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status).as("xl create: %s", create.err).isZero();
        Process console = start("console", NAME);
        StreamCapture out = StreamCapture.of(console.getInputStream());
        StreamCapture err = StreamCapture.of(console.getErrorStream());
        assertThat(err.awaitContains("Connected to domain '" + NAME + "'", Duration.ofMinutes(2))).isTrue();
        assertThat(xl(Duration.ofMinutes(2), "unpause", NAME).status).isZero();
        assertThat(out.awaitContains("Kernel panic", TIMEOUT)).as("first boot panics:%n%s", out).isTrue();
        // After the restart the fresh guest prints its boot banner and ready marker a second time.
        Instant deadline = Instant.now().plus(TIMEOUT);
        while (out.toString().split("DOMUS-GUEST-READY", -1).length < 3 && Instant.now().isBefore(deadline)) {
            out.awaitContains("\u0000never", Duration.ofSeconds(2));
        }
        assertThat(out.toString().split("DOMUS-GUEST-READY", -1).length - 1).as("ready markers:%n%s", out)
                .isGreaterThanOrEqualTo(2);
        assertThat(xl(Duration.ofMinutes(1), "destroy", NAME).status).isZero();
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
