// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineListener;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Boots the real guest image (Linux 6.1 + busybox initramfs from deploy/guest/build) on xen-core: userspace comes
 * up, runs a command, powers off; SMP with 4 harts; a kernel panic is reported as a crash.
 */
class LinuxBootIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static Path guest;

    @BeforeAll
    static void guestImage() throws Exception {
        String env = System.getenv("DOMUS_GUEST_DIR");
        if (env != null && !env.isBlank()) {
            guest = Path.of(env);
        } else {
            Path root = Path.of(System.getProperty("domus.repo.root", "..")).toAbsolutePath();
            Process p = new ProcessBuilder(root.resolve("deploy/guest/build").toString(), "--print-dir")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertThat(p.waitFor(40, TimeUnit.MINUTES)).isTrue();
            assertThat(p.exitValue()).as("deploy/guest/build").isZero();
            guest = Path.of(out);
        }
        assertThat(guest.resolve("Image")).exists();
        assertThat(guest.resolve("initramfs.cpio.gz")).exists();
    }

    /** Console capture with a condition wait. */
    static final class Console implements MachineListener {
        private final StringBuilder text = new StringBuilder();
        private volatile ExitReason exit;

        @Override
        public synchronized void consoleOutput(byte[] data, int off, int len) {
            text.append(new String(data, off, len, StandardCharsets.UTF_8));
            notifyAll();
        }

        @Override
        public void exited(ExitReason reason) {
            exit = reason;
        }

        synchronized boolean awaitContains(String s, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (!text.toString().contains(s)) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        @Override
        public synchronized String toString() {
            return text.toString();
        }
    }

    private static Machine boot(int vcpus, String script, Console console) throws IOException {
        String cmdline = "console=ttyS0 domus.run64="
                + Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        MachineConfig cfg = new MachineConfig("it-" + vcpus, 256, vcpus, guest.resolve("Image"),
                Optional.of(guest.resolve("initramfs.cpio.gz")), cmdline, 0);
        Machine m = Machines.create(cfg, console);
        m.start();
        return m;
    }

    @Test
    void singleVcpuBootsRunsACommandAndPowersOff() throws Exception {
        Console c = new Console();
        try (Machine m = boot(1, "echo LINUX-IT-$((40+2)); uname -m\n", c)) {
            Optional<ExitReason> exit = m.awaitExit(TIMEOUT);
            assertThat(exit).as("console:%n%s", c).contains(new ExitReason.PowerOff(0));
            assertThat(c.toString()).contains("DOMUS-GUEST-READY", "LINUX-IT-42", "riscv64", "DOMUS-RUN-EXIT=0");
            assertThat(m.info().instructions()).isGreaterThan(10_000_000L);
        }
    }

    @Test
    void fourVcpusAreOnlineInTheGuest() throws Exception {
        Console c = new Console();
        try (Machine m = boot(4, "echo NPROC=$(nproc); grep -c ^processor /proc/cpuinfo\n", c)) {
            Optional<ExitReason> exit = m.awaitExit(TIMEOUT);
            assertThat(exit).as("console:%n%s", c).contains(new ExitReason.PowerOff(0));
            assertThat(c.toString()).contains("NPROC=4", "DOMUS-RUN-EXIT=0");
        }
    }

    @Test
    void kernelPanicIsReportedAsCrash() throws Exception {
        Console c = new Console();
        try (Machine m = boot(1, "echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger\n", c)) {
            Optional<ExitReason> exit = m.awaitExit(TIMEOUT);
            assertThat(exit).as("console:%n%s", c).isPresent();
            assertThat(exit.get()).isInstanceOf(ExitReason.Crash.class);
            assertThat(((ExitReason.Crash) exit.get()).reason()).contains("panic");
            assertThat(c.toString()).contains("Kernel panic");
        }
    }

    @Test
    void hostShutdownRequestPowersTheGuestOffGracefully() throws Exception {
        Console c = new Console();
        try (Machine m = boot(1, "echo WAITING; sleep 600\n", c)) {
            assertThat(c.awaitContains("WAITING", TIMEOUT)).as("console:%n%s", c).isTrue();
            m.requestShutdown(false);
            Optional<ExitReason> exit = m.awaitExit(TIMEOUT);
            assertThat(exit).as("console:%n%s", c).contains(new ExitReason.PowerOff(0));
        }
    }

    @Test
    void shutdownRequestedDuringBootIsDeliveredOnceTheGuestListens() throws Exception {
        Console c = new Console();
        try (Machine m = boot(1, "echo WAITING; sleep 600\n", c)) {
            m.requestShutdown(false); // long before the guest's control reader opens its port
            Optional<ExitReason> exit = m.awaitExit(TIMEOUT);
            assertThat(exit).as("console:%n%s", c).contains(new ExitReason.PowerOff(0));
            assertThat(c.toString()).contains("DOMUS-GUEST-READY");
        }
    }

    @Test
    void pauseStopsTheGuestAndResumeContinues() throws Exception {
        Console c = new Console();
        try (Machine m = boot(1, "i=0; while [ $i -lt 3 ]; do echo TICK-$i; i=$((i+1)); sleep 1; done\n", c)) {
            assertThat(c.awaitContains("TICK-0", TIMEOUT)).as("console:%n%s", c).isTrue();
            m.pause();
            assertThat(m.state()).isEqualTo(Machine.State.PAUSED);
            long before = m.info().instructions();
            assertThat(c.awaitContains("TICK-2", Duration.ofSeconds(3))).as("no progress while paused").isFalse();
            assertThat(m.info().instructions()).isEqualTo(before);
            m.resume();
            assertThat(m.awaitExit(TIMEOUT)).as("console:%n%s", c).contains(new ExitReason.PowerOff(0));
            assertThat(c.toString()).contains("TICK-2");
        }
    }

    @Test
    void badKernelIsRefusedWithOneClearMessage() throws Exception {
        Path notAnImage = Files.createTempFile("not-an-image", ".bin");
        Files.writeString(notAnImage, "#!/bin/sh\necho hello\n".repeat(10));
        MachineConfig cfg = new MachineConfig("bad", 64, 1, notAnImage, Optional.empty(), "", 0);
        try {
            Machines.create(cfg, new MachineListener() { });
            throw new AssertionError("expected BootException");
        } catch (BootException e) {
            assertThat(e.getMessage()).contains("not a RISC-V Linux Image");
        }
        Path bigRamdisk = Files.createTempFile("big-initrd", ".img");
        Files.write(bigRamdisk, new byte[24 << 20]);
        MachineConfig tooSmall = new MachineConfig("small", 16, 1, guest.resolve("Image"),
                Optional.of(bigRamdisk), "", 0);
        try {
            Machines.create(tooSmall, new MachineListener() { });
            throw new AssertionError("expected BootException");
        } catch (BootException e) {
            assertThat(e.getMessage()).contains("too small").contains("need at least");
        }
    }
}
