// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.domain.DomainConfig;
import dev.domus.xen.testing.StreamCapture;
import dev.domus.xen.testing.XlRunner;
import dev.domus.xen.testing.XlRunner.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
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

    private final Path repo = XlRunner.repoRoot();
    private XlRunner xl;

    /** The driver for this test's run directory (created on first use). */
    private XlRunner host() throws Exception {
        if (xl == null) {
            xl = XlRunner.of(Map.of("DOMUS_RUN_DIR", tmp.resolve("run").toString(),
                    "DOMUS_GUEST_DIR", XlRunner.guestDir().toString()));
        }
        return xl;
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (xl != null) {
            xl.close();
            xl.xl(Duration.ofSeconds(60), "destroy", NAME); // ignore the outcome: usually already gone
            xl.close();
        }
    }

    @Test
    void bootsTheGuestRunsAScriptAndVanishes() throws Exception {
        DomainConfig demo = DomainConfig.load(repo.resolve("deploy/xl/demo.cfg"), guestEnv());

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
        assertThat(create.status()).as("xl create: %s", create.err()).isZero();

        Process console = host().start("console", NAME);
        StreamCapture out = XlRunner.attach(console, NAME, Duration.ofMinutes(2));

        Result unpause = xl(Duration.ofMinutes(2), "unpause", NAME);
        assertThat(unpause.status()).as("xl unpause: %s", unpause.err()).isZero();

        assertThat(out.awaitContains("DOMUS-RUN-EXIT=0", TIMEOUT)).as("guest output:%n%s", out).isTrue();
        assertThat(out.toString()).contains("DOMUS-XL-IT-MARKER-42");
        assertThat(console.waitFor(2, TimeUnit.MINUTES)).as("xl console ends with the domain").isTrue();
        assertThat(console.exitValue()).isZero();

        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        String list;
        do {
            Result r = xl(Duration.ofMinutes(1), "list");
            assertThat(r.status()).as("xl list: %s", r.err()).isZero();
            list = r.out();
        } while (list.contains(NAME) && Instant.now().isBefore(deadline));
        assertThat(list).doesNotContain(NAME);
    }

    /** Writes a config for the test domain running {@code script}, with the given lifecycle policy. */
    private Path config(String script, String onCrash) throws Exception {
        DomainConfig demo = DomainConfig.load(repo.resolve("deploy/xl/demo.cfg"), guestEnv());
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
        assertThat(create.status()).as("xl create: %s", create.err()).isZero();
        Instant deadline = Instant.now().plus(TIMEOUT);
        String list;
        do {
            list = xl(Duration.ofMinutes(1), "list").out();
        } while (!list.contains("----c-") && Instant.now().isBefore(deadline));
        assertThat(list).as("xl list").contains(NAME).contains("----c-");
        Result destroy = xl(Duration.ofMinutes(1), "destroy", NAME);
        assertThat(destroy.status()).as("xl destroy: %s", destroy.err()).isZero();
        // 'xl destroy' returns once the name is free: the same domain can be created again at once.
        Result again = xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(again.status()).as("xl create right after destroy: %s", again.err()).isZero();
        assertThat(xl(Duration.ofMinutes(1), "destroy", NAME).status()).isZero();
    }

    @Test
    void crashWithRestartPolicyBootsTheDomainAgain() throws Exception {
        Path cfg = config(PANIC, "restart");
        Result create = xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status()).as("xl create: %s", create.err()).isZero();
        StreamCapture out = host().attachConsole(NAME, Duration.ofMinutes(2));
        assertThat(xl(Duration.ofMinutes(2), "unpause", NAME).status()).isZero();
        assertThat(out.awaitContains("Kernel panic", TIMEOUT)).as("first boot panics:%n%s", out).isTrue();
        // After the restart the fresh guest prints its boot banner and ready marker a second time.
        Instant deadline = Instant.now().plus(TIMEOUT);
        while (out.toString().split("DOMUS-GUEST-READY", -1).length < 3 && Instant.now().isBefore(deadline)) {
            out.awaitContains("\u0000never", Duration.ofSeconds(2));
        }
        assertThat(out.toString().split("DOMUS-GUEST-READY", -1).length - 1).as("ready markers:%n%s", out)
                .isGreaterThanOrEqualTo(2);
        assertThat(xl(Duration.ofMinutes(1), "destroy", NAME).status()).isZero();
    }

    private Map<String, String> guestEnv() throws Exception {
        return Map.of("DOMUS_GUEST_DIR", XlRunner.guestDir().toString());
    }

    private Result xl(Duration timeout, String... args) throws Exception {
        return host().xl(timeout, args);
    }
}
