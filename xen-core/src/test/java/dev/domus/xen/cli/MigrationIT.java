// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.domain.DomainConfig;
import dev.domus.xen.migration.MigrationProxy;
import dev.domus.xen.testing.NetNs;
import dev.domus.xen.testing.StreamCapture;
import dev.domus.xen.testing.XlRunner;
import dev.domus.xen.testing.XlRunner.Result;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration through the real {@code bin/xl} between two "hosts" (two run directories, loopback TCP): a guest
 * that keeps dirtying tmpfs with random data and prints a counter is migrated and the counter continues on the
 * target without a gap or reset; a target killed during the pre-copy (held there by {@link MigrationProxy}) leaves
 * the source guest running and nothing on the target.
 */
class MigrationIT {
    private static final String NAME = "migrate-it";
    private static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("domus.it.timeout.seconds", 900));
    private static final Pattern COUNT = Pattern.compile("COUNT=(\\d+)\\r?\\n");

    @TempDir
    Path tmp;

    private final Path repo = XlRunner.repoRoot();
    private XlRunner hostA;
    private XlRunner hostB;

    private Process proxy;

    @AfterEach
    void cleanUp() throws Exception {
        if (proxy != null) {
            proxy.destroyForcibly();
        }
        for (XlRunner h : new XlRunner[] {hostA, hostB}) {
            if (h != null) {
                h.close();
                h.xl(Duration.ofSeconds(60), "destroy", NAME);
                h.close();
            }
        }
    }

    private static List<Integer> counts(String out) {
        return XlRunner.counts(out, COUNT);
    }

    private static int last(StreamCapture c) {
        return XlRunner.last(c, COUNT);
    }

    private static boolean awaitCount(StreamCapture c, int atLeast, Duration timeout) throws InterruptedException {
        return XlRunner.awaitCount(c, COUNT, atLeast, timeout);
    }

    private void setUpHosts(String dirtying) throws Exception {
        setUpHosts("mkdir -p /tmp/busy; (while true; do " + dirtying + "; done) &\n"
                + "i=0; while true; do i=$((i+1)); echo COUNT=$i; sleep 0.2; done\n", "");
    }

    private void setUpHosts(String script, String extraConfig) throws Exception {
        String guest = XlRunner.guestDir().toString();
        Map<String, String> envA = Map.of("DOMUS_RUN_DIR", tmp.resolve("hostA").toString(), "DOMUS_GUEST_DIR", guest);
        hostA = XlRunner.of(envA);
        hostB = XlRunner.of(Map.of("DOMUS_RUN_DIR", tmp.resolve("hostB").toString(), "DOMUS_GUEST_DIR", guest));
        DomainConfig demo = DomainConfig.load(repo.resolve("deploy/xl/demo.cfg"), envA);
        String run64 = Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        Path cfg = tmp.resolve(NAME + ".cfg");
        Files.writeString(cfg, "name = '" + NAME + "'\nmemory = 128\nvcpus = 1\n"
                + "kernel = '" + demo.kernel() + "'\n"
                + demo.ramdisk().map(r -> "ramdisk = '" + r + "'\n").orElse("")
                + "extra = 'console=ttyS0 domus.run64=" + run64 + "'\n"
                + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = 'destroy'\n" + extraConfig);
        Result create = hostA.xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status()).as("xl create: %s", create.err()).isZero();
    }

    /** Starts {@code migrate-receive} on host B, migrates the domain there and checks both ends succeeded. */
    private String migrateToB() throws Exception {
        String target = "127.0.0.1:" + freePort();
        Process receive = hostB.start("migrate-receive", "--listen", target);
        StreamCapture recvErr = StreamCapture.of(receive.getErrorStream());
        Result migrate;
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        do {
            // The receiver may not listen yet: a refused connection fails the migration and the source runs on.
            migrate = hostA.xl(Duration.ofMinutes(10), "migrate", NAME, target);
        } while (migrate.status() != 0 && migrate.err().contains("Connection refused")
                && Instant.now().isBefore(deadline));
        assertThat(migrate.status()).as("xl migrate: %s", migrate.err()).isZero();
        assertThat(migrate.out()).contains("migrated " + NAME);
        assertThat(receive.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(receive.exitValue()).as("migrate-receive: %s", recvErr).isZero();
        return target;
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void busyGuestMigratesAndItsCounterContinuesWithoutAGap() throws Exception {
        setUpHosts("dd if=/dev/urandom of=/tmp/busy/f bs=4k count=64 2>/dev/null");
        Process consoleA = hostA.start("console", NAME);
        StreamCapture outA = XlRunner.attach(consoleA, NAME, Duration.ofMinutes(2));
        assertThat(hostA.xl(Duration.ofMinutes(2), "unpause", NAME).status()).isZero();
        assertThat(awaitCount(outA, 5, TIMEOUT)).as("guest counts:%n%s", outA).isTrue();

        String target = migrateToB();
        assertThat(consoleA.waitFor(2, TimeUnit.MINUTES)).as("source console ends with the source domain").isTrue();
        assertThat(hostA.xl(Duration.ofMinutes(1), "list").out()).doesNotContain(NAME);
        int atSource = last(outA);

        assertThat(hostB.xl(Duration.ofMinutes(1), "list").out()).contains(NAME);
        StreamCapture outB = hostB.attachConsole(NAME, Duration.ofMinutes(2));
        assertThat(awaitCount(outB, atSource + 5, Duration.ofMinutes(3)))
                .as("target output (source stopped at %d):%n%s", atSource, outB).isTrue();
        List<Integer> target1 = XlRunner.countsContinuing(outA.toString(), outB.toString(), COUNT);
        // The target's console replays everything since it started: the first count follows the source's last.
        assertThat(target1.getFirst()).as("first count on the target, source stopped at %d", atSource)
                .isEqualTo(atSource + 1);
        for (int i = 1; i < target1.size(); i++) {
            assertThat(target1.get(i)).as("counter step %d", i).isEqualTo(target1.get(i - 1) + 1);
        }
    }

    @Test
    void targetKilledDuringMigrationLeavesOneRunningCopy() throws Exception {
        // A busy guest: 32 MiB of fresh random data per loop.
        setUpHosts("dd if=/dev/urandom of=/tmp/busy/f bs=1M count=32 2>/dev/null");
        Process consoleA = hostA.start("console", NAME);
        StreamCapture outA = XlRunner.attach(consoleA, NAME, Duration.ofMinutes(2));
        assertThat(hostA.xl(Duration.ofMinutes(2), "unpause", NAME).status()).isZero();
        assertThat(awaitCount(outA, 5, TIMEOUT)).as("guest counts:%n%s", outA).isTrue();

        // The kill must land in the pre-copy: a proxy stops forwarding after a few page frames (so a guest that
        // converges fast cannot finish first), the target runner is killed while it waits.
        int port = freePort();
        String target = "127.0.0.1:" + port;
        Process receive = hostB.start("migrate-receive", "--listen", target);
        ProcessHandle runner = awaitIncomingRunner(port);
        Path incomingLog = tmp.resolve("hostB/xl/incoming-127.0.0.1_" + port + ".log");
        Instant listening = Instant.now().plus(Duration.ofMinutes(2));
        while (!(Files.exists(incomingLog) && Files.readString(incomingLog).contains("migration_listening"))
                && Instant.now().isBefore(listening)) {
            Thread.sleep(200);
        }
        String proxied = "127.0.0.1:" + freePort();
        proxy = new ProcessBuilder(NetNs.javaCommand(MigrationProxy.class, List.of(),
                List.of(proxied, target, "stall", "3"))).redirectErrorStream(true).start();
        StreamCapture proxyOut = StreamCapture.of(proxy.getInputStream());
        assertThat(proxyOut.awaitContains("LISTENING", Duration.ofMinutes(2))).as("proxy: %s", proxyOut).isTrue();
        Process migrate = hostA.start("migrate", "--downtime-ms", "1", "--max-rounds", "1000", NAME, proxied);
        StreamCapture migErr = StreamCapture.of(migrate.getErrorStream());
        StreamCapture.of(migrate.getInputStream());
        assertThat(proxyOut.awaitContains("EVENT", Duration.ofMinutes(5))).as("proxy stalls: %s", proxyOut).isTrue();
        runner.destroyForcibly();
        assertThat(migrate.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(migrate.exitValue()).as("xl migrate after the target died: %s", migErr).isEqualTo(1);
        assertThat(migErr.toString()).contains("keeps running here");
        assertThat(receive.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(receive.exitValue()).isNotZero();

        int before = last(outA);
        assertThat(awaitCount(outA, before + 5, Duration.ofMinutes(3))).as("source keeps counting:%n%s", outA)
                .isTrue();
        assertThat(hostA.xl(Duration.ofMinutes(1), "list").out()).contains(NAME);
        assertThat(hostB.xl(Duration.ofMinutes(1), "list").out()).doesNotContain(NAME);
    }

    @Test
    void aSharedReadWriteDiskMovesWithTheGuestAndKeepsWhatWasWrittenBeforeAndAfter() throws Exception {
        // One host, one image: the target opens it in place ('shared'); the image lock moves at the hand-over.
        Path image = tmp.resolve("shared-data.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(8 << 20);
        }
        // Each step writes its own 512-byte block ("BLK=<i>") and syncs it before it prints the count, so every
        // count seen on a console is on the disk, whichever side wrote it.
        setUpHosts("i=0; while true; do i=$((i+1)); printf 'BLK=%08d\\n' $i | dd of=/dev/vda bs=512 seek=$i"
                + " conv=notrunc,sync,fsync 2>/dev/null && echo COUNT=$i; sleep 0.2; done\n",
                "disk = ['" + image + ",rw,vda,shared']\n");
        Process consoleA = hostA.start("console", NAME);
        StreamCapture outA = XlRunner.attach(consoleA, NAME, Duration.ofMinutes(2));
        assertThat(hostA.xl(Duration.ofMinutes(2), "unpause", NAME).status()).isZero();
        assertThat(awaitCount(outA, 5, TIMEOUT)).as("guest writes and counts:%n%s", outA).isTrue();
        assertThat(lockedElsewhere(image)).as("the source runner holds the image lock").isTrue();

        String target = migrateToB();
        assertThat(consoleA.waitFor(2, TimeUnit.MINUTES)).as("source console ends with the source domain").isTrue();
        int atSource = last(outA);

        StreamCapture outB = hostB.attachConsole(NAME, Duration.ofMinutes(2));
        assertThat(awaitCount(outB, atSource + 5, Duration.ofMinutes(3)))
                .as("target writes and counts on (source stopped at %d):%n%s", atSource, outB).isTrue();
        List<Integer> onB = XlRunner.countsContinuing(outA.toString(), outB.toString(), COUNT);
        assertThat(onB.getFirst()).as("first count on the target, source stopped at %d", atSource)
                .isEqualTo(atSource + 1);
        assertThat(lockedElsewhere(image)).as("the target runner holds the image lock now").isTrue();
        // Only the target wrote after the hand-over: the source released at its pause, the target took it after
        // COMMIT (both logged by the block device).
        assertThat(Files.readString(tmp.resolve("hostA/xl/" + NAME + ".log"))).contains("blk-lock-released");
        assertThat(Files.readString(tmp.resolve("hostB/xl/incoming-" + target.replace(':', '_') + ".log")))
                .contains("blk-lock-acquired");

        assertThat(hostB.xl(Duration.ofMinutes(2), "destroy", NAME).status()).isZero();
        hostB.awaitGone(NAME, Duration.ofMinutes(2));
        assertThat(lockedElsewhere(image)).as("released when the domain ended").isFalse();
        byte[] disk = Files.readAllBytes(image);
        int lastOnB = onB.getLast();
        for (int i = 1; i <= lastOnB; i++) {
            String block = new String(disk, i * 512, 12, StandardCharsets.US_ASCII);
            assertThat(block).as("block %d (source wrote up to %d, target up to %d)", i, atSource, lastOnB)
                    .isEqualTo(String.format("BLK=%08d", i));
        }
    }

    /** True when another process holds a lock on {@code image} (this JVM cannot take it). */
    private static boolean lockedElsewhere(Path image) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(image,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.channels.FileLock l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        }
    }

    /** The runner process listening for the incoming migration on {@code port} (started by migrate-receive). */
    private static ProcessHandle awaitIncomingRunner(int port) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        String needle = "--incoming 127.0.0.1:" + port;
        while (Instant.now().isBefore(deadline)) {
            var found = ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                    .map(c -> c.contains(needle)).orElse(false) && p.info().command()
                    .map(c -> c.endsWith("java")).orElse(false)).findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no runner with '" + needle + "' appeared");
    }
}
