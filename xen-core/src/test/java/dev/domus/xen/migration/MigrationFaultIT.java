// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration between two "hosts": two network namespaces created by the test, each with a bridge, the bridges
 * joined by a veth pair (one LAN), and a second veth pair carrying the migration. One busy guest (root disk with
 * dropbear, NIC on the LAN, a console counter, random data into tmpfs, files written and synced on its disk) runs
 * on host A through {@code bin/xl}; a fault-injecting proxy ({@link MigrationProxy}) on host B sits between the
 * source and the target runner. The guest is booted once and goes through, in order:
 *
 * <ol>
 *   <li>mirroring to a target without a disk directory: refused in the handshake, the source runs on;</li>
 *   <li>target killed (kill -9) mid-RAM, connection cut mid-RAM, a flipped bit (checksum mismatch), target killed
 *       after the source paused and before COMMIT: each time the source guest keeps counting, the target runner is
 *       gone, its name is free and its disk directory empty;</li>
 *   <li>COMMIT lost (the in-doubt window): the source stays paused, the target never ran; unpaused, it counts on;</li>
 *   <li>a successful migration with disk mirroring: the counter continues on B without a gap or reset and an SSH
 *       session from host A survives;</li>
 *   <li>back to A with DONE lost: A read COMMIT and runs the guest, B stays paused in doubt (its counter does not
 *       move) and is destroyed; the counter continues on A, the SSH session survives again, and after a clean
 *       power-off A's mirrored copy passes {@code e2fsck -fn} and holds the files written before and during the
 *       migrations.</li>
 * </ol>
 */
class MigrationFaultIT {
    private static final String NAME = "migfault-it";
    private static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("domus.it.timeout.seconds", 900));
    private static final Duration STEP = Duration.ofMinutes(5);
    private static final Pattern COUNT = Pattern.compile("COUNT=(\\d+)\\r?\\n");
    private static final Pattern TICK = Pattern.compile("TICK=(\\d+)\\r?\\n");
    private static final String GUEST_IP = "10.78.0.10";
    private static final String MIG_B = "10.79.0.2";

    @TempDir
    Path tmp;

    private final Path repo = XlRunner.repoRoot();
    private final List<Process> started = new ArrayList<>();
    /** One {@code bin/xl} driver per host (namespace and run directory). */
    private final Map<String, XlRunner> hosts = new java.util.HashMap<>();

    @Test
    void faultsLeaveOneRunningCopyAndAMirroredMigrationKeepsCounterSshAndDisk() throws Exception {
        Path guest = XlRunner.guestDir();
        Path key = tmp.resolve("id_ed25519");
        Process kg = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "it@domus", "-f",
                key.toString()).redirectErrorStream(true).start();
        assertThat(kg.waitFor(1, TimeUnit.MINUTES) && kg.exitValue() == 0).as("ssh-keygen").isTrue();
        String pub64 = b64(Files.readString(tmp.resolve("id_ed25519.pub")).strip());
        Path runA = tmp.resolve("runA");
        Path runB = tmp.resolve("runB");
        Path disksB = Files.createDirectories(tmp.resolve("disksB"));
        try (NetNs a = NetNs.create("mfa"); NetNs b = NetNs.create("mfb")) {
            try {
                a.addBridge("br0");
                b.addBridge("br0");
                a.vethTo("lan-a", b, "lan-b");
                a.attach("lan-a", "br0");
                b.attach("lan-b", "br0");
                a.addAddress("br0", "10.78.0.1/24");
                b.addAddress("br0", "10.78.0.2/24");
                a.vethTo("mig-a", b, "mig-b");
                a.addAddress("mig-a", "10.79.0.1/24");
                b.addAddress("mig-b", MIG_B + "/24");
                scenario(a, b, runA, runB, disksB, guest, key, pub64);
            } finally {
                hosts.values().forEach(XlRunner::close);
                for (Process p : started) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
                // Best effort (usually already gone); closing the namespaces kills whatever is left in them.
                for (var host : List.of(Map.entry(a, runA), Map.entry(b, runB))) {
                    try {
                        xl(host.getKey(), host.getValue(), Duration.ofMinutes(2), "destroy", NAME);
                    } catch (Exception | AssertionError e) {
                        System.err.println("cleanup: xl destroy on " + host.getKey() + ": " + e.getMessage());
                    }
                }
            }
        }
        try (Stream<Path> l = Files.list(Path.of("/run/netns"))) {
            assertThat(l.map(Path::toString).filter(n -> n.contains("-mf")).toList()).as("namespaces removed")
                    .isEmpty();
        }
    }

    private void scenario(NetNs a, NetNs b, Path runA, Path runB, Path disksB, Path guest, Path key, String pub64)
            throws Exception {
        Path root = tmp.resolve("root.ext4");
        assertThat(new ProcessBuilder("cp", "--sparse=always", guest.resolve("rootfs.ext4").toString(),
                root.toString()).inheritIO().start().waitFor()).isZero();
        // "last" is replaced by a rename, never rewritten in place: the shutdown kills the writer at any point, and a
        // kill between the truncate and the write of "echo > last" left an empty file on a quiet box.
        String script = """
                mkdir -p /tmp/busy /root/data
                (while true; do dd if=/dev/urandom of=/tmp/busy/f bs=4k count=64 2>/dev/null; done) &
                (j=0; while true; do j=$((j+1)); echo "file $j" > /root/data/f$((j % 16)); echo $j > /root/data/last.tmp; \
                mv /root/data/last.tmp /root/data/last; \
                sync; sleep 0.3; done) &
                i=0; while true; do i=$((i+1)); echo COUNT=$i; sleep 0.2; done
                """;
        Path cfg = tmp.resolve(NAME + ".cfg");
        Files.writeString(cfg, "name = '" + NAME + "'\nmemory = 128\nvcpus = 1\n"
                + "kernel = '" + guest.resolve("Image") + "'\n"
                + "extra = 'console=ttyS0 root=/dev/vda rw domus.ip=" + GUEST_IP + "/24 domus.hostname=" + NAME
                + " domus.sshkey64=" + pub64 + " domus.run64=" + b64(script) + "'\n"
                + "disk = [ '" + root + ",rw,vda' ]\n"
                + "vif = [ 'bridge=br0,mac=52:54:00:78:00:10,vifname=mf-tap0' ]\n"
                + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = 'destroy'\n");
        Result create = xl(a, runA, Duration.ofMinutes(10), "create", "-p", cfg.toString());
        assertThat(create.status()).as("xl create: %s", create.err()).isZero();
        StreamCapture outA = attachConsole(a, runA);
        assertThat(xl(a, runA, STEP, "unpause", NAME).status()).isZero();
        assertThat(awaitCount(outA, COUNT, 5, TIMEOUT)).as("guest counts:%n%s", outA).isTrue();

        String before = ssh(a, key, "dd if=/dev/urandom of=/root/data/before.bin bs=64k count=4 2>/dev/null && sync"
                + " && sha256sum /root/data/before.bin");
        String beforeSum = before.strip().split("\\s+")[0];
        assertThat(beforeSum).hasSize(64);
        Process session = a.start(sshCommand(key, "i=0; while true; do i=$((i+1)); echo TICK=$i; sleep 0.5; done"),
                pb -> { });
        started.add(session);
        StreamCapture ticks = StreamCapture.of(session.getInputStream());
        StreamCapture.of(session.getErrorStream());
        assertThat(awaitCount(ticks, TICK, 3, STEP)).as("ssh session ticks: %s", ticks).isTrue();

        int port = 8300;
        // 0. Mirroring to a target without a disk directory is refused in the handshake, before any copy.
        port += 2;
        String noDisks = MIG_B + ":" + port;
        Process refusing = startXl(b, runB, "migrate-receive", "--listen", noDisks);
        StreamCapture.of(refusing.getErrorStream());
        ProcessHandle refusingRunner = awaitIncomingRunner(noDisks);
        awaitListening(runB, noDisks);
        Result refused = xl(a, runA, STEP, "migrate", "--mirror-disks", "all", NAME, noDisks);
        assertThat(refused.status()).as("xl migrate to a target without --disk-dir: %s", refused.err()).isEqualTo(1);
        assertThat(refused.err()).contains("keeps running here", "--disk-dir");
        assertThat(refusing.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(refusing.exitValue()).isNotZero();
        assertTargetGone(b, runB, disksB, refusingRunner, "no disk directory");
        assertSourceCounts(a, runA, outA, "no disk directory");

        // 1. Faults before COMMIT: the source resumes, the target leaves nothing behind.
        for (String[] fault : new String[][] {{"stall", "3", "kill"}, {"cut", "3", ""}, {"flip", "2", ""},
                {"hold-ready", "0", "kill"}}) {
            port += 2;
            String mode = fault[0];
            Fault f = startFault(a, b, runA, runB, disksB, port, mode, fault[1]);
            if (fault[2].equals("kill")) {
                assertThat(f.proxyOut.awaitContains("EVENT", STEP)).as("proxy (%s): %s", mode, f.proxyOut).isTrue();
                f.runner.destroyForcibly(); // kill -9 of the target runner
            }
            assertThat(f.migrate.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)).as("xl migrate ends").isTrue();
            assertThat(f.migrate.exitValue()).as("xl migrate (%s): %s", mode, f.migrateErr).isEqualTo(1);
            assertThat(f.migrateErr.toString()).as("%s", mode).contains("keeps running here");
            assertThat(f.receive.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)).as("migrate-receive ends").isTrue();
            assertThat(f.receive.exitValue()).as("migrate-receive (%s)", mode).isNotZero();
            assertTargetGone(b, runB, disksB, f.runner, mode);
            assertSourceCounts(a, runA, outA, mode);
        }

        // 2. COMMIT lost: in doubt, the source stays paused and the target never runs the guest.
        port += 2;
        Fault f = startFault(a, b, runA, runB, disksB, port, "drop-commit", "0");
        assertThat(f.migrate.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(f.migrate.exitValue()).as("xl migrate (drop-commit): %s", f.migrateErr).isEqualTo(2);
        assertThat(f.migrateErr.toString()).contains("in doubt", "PAUSED");
        assertThat(f.receive.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(f.receive.exitValue()).isNotZero();
        assertTargetGone(b, runB, disksB, f.runner, "drop-commit");
        assertThat(listLine(a, runA)).as("source after a lost COMMIT").contains("--p---");
        int paused = last(outA, COUNT);
        assertThat(awaitCount(outA, COUNT, paused + 1, Duration.ofSeconds(3))).as("a paused source does not count")
                .isFalse();
        assertThat(xl(a, runA, STEP, "unpause", NAME).status()).isZero();
        assertSourceCounts(a, runA, outA, "drop-commit + unpause");

        // 3. The real thing, with the disk mirrored into host B's disk directory.
        port += 2;
        String target = MIG_B + ":" + port;
        Process receive = startXl(b, runB, "migrate-receive", "--listen", target, "--disk-dir", disksB.toString());
        StreamCapture recvErr = StreamCapture.of(receive.getErrorStream());
        awaitListening(runB, target);
        int ticksBefore = last(ticks, TICK);
        Result migrate = xl(a, runA, Duration.ofMinutes(15), "migrate", "--mirror-disks", "all", "--downtime-ms",
                "50", NAME, target);
        assertThat(migrate.status()).as("xl migrate: %s", migrate.err()).isZero();
        assertThat(migrate.out()).contains("migrated " + NAME);
        System.out.println("MigrationFaultIT mirrored migration: " + migrate.out().strip() + " (load average "
                + Files.readString(Path.of("/proc/loadavg")).strip() + ")");
        assertThat(receive.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(receive.exitValue()).as("migrate-receive: %s", recvErr).isZero();
        // Where the mirrored migration's pause went (reported, not asserted: timing depends on the host's load).
        for (Path log : List.of(runA.resolve("xl/" + NAME + ".log"),
                runB.resolve("xl/incoming-" + target.replaceAll("[^A-Za-z0-9_.-]", "_") + ".log"))) {
            if (Files.exists(log)) {
                Files.readAllLines(log).stream().filter(l -> l.contains("event=migration_stop_copy")
                        || l.contains("event=migration_resumed") || l.contains("event=migration_phases"))
                        .forEach(l -> System.out.println("MigrationFaultIT " + l));
            }
        }
        assertThat(xl(a, runA, STEP, "list").out()).doesNotContain(NAME);
        int atSource = last(outA, COUNT);
        StreamCapture outB = attachConsole(b, runB);
        assertThat(awaitCount(outB, COUNT, atSource + 5, STEP)).as("target output (source stopped at %d):%n%s",
                atSource, outB).isTrue();
        List<Integer> onB = XlRunner.countsContinuing(outA.toString(), outB.toString(), COUNT);
        assertThat(onB.getFirst()).as("first count on the target, source stopped at %d", atSource)
                .isEqualTo(atSource + 1);
        assertConsecutive(onB, "target counter");
        assertConsecutive(counts(outA.toString(), COUNT), "source counter over all the faults");
        assertThat(awaitCount(ticks, TICK, ticksBefore + 6, STEP)).as("ssh session after migration: %s", ticks)
                .isTrue();
        assertThat(session.isAlive()).as("the ssh session survived").isTrue();
        assertConsecutive(counts(ticks.toString(), TICK), "ssh ticks");

        assertThat(listLine(b, runB)).as("the guest runs on B").contains("r-----");

        // 4. Back to A, losing DONE: the target (A) read COMMIT and runs the guest, B stays paused in doubt (never
        // two running copies); the operator's resolution is to destroy B's paused copy.
        Path disksA = Files.createDirectories(tmp.resolve("disksA"));
        String backTarget = "10.79.0.1:" + (port + 2);
        String backProxied = "10.79.0.1:" + (port + 3);
        Process back = startXl(a, runA, "migrate-receive", "--listen", backTarget, "--disk-dir", disksA.toString());
        StreamCapture backErr = StreamCapture.of(back.getErrorStream());
        awaitListening(runA, backTarget);
        Process proxy = a.startJava(MigrationProxy.class, List.of(backProxied, backTarget, "drop-done", "0"));
        started.add(proxy);
        StreamCapture proxyOut = StreamCapture.of(proxy.getInputStream());
        assertThat(proxyOut.awaitContains("LISTENING", STEP)).as("proxy: %s", proxyOut).isTrue();
        Result inDoubt = xl(b, runB, Duration.ofMinutes(15), "migrate", "--mirror-disks", "all", "--downtime-ms",
                "50", NAME, backProxied);
        assertThat(inDoubt.status()).as("xl migrate B->A losing DONE: %s", inDoubt.err()).isEqualTo(2);
        assertThat(inDoubt.err()).contains("in doubt", "PAUSED");
        assertThat(proxyOut.toString()).contains("dropped DONE");
        assertThat(back.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(back.exitValue()).as("migrate-receive on A (it read COMMIT): %s", backErr).isZero();
        assertThat(listLine(b, runB)).as("B after losing DONE").contains("--p---");
        assertThat(listLine(a, runA)).as("A runs the guest").contains("r-----");
        int atB = last(outB, COUNT);
        StreamCapture outA2 = attachConsole(a, runA);
        assertThat(awaitCount(outA2, COUNT, atB + 5, STEP)).as("A after the in-doubt hand-over:%n%s", outA2)
                .isTrue();
        assertThat(last(outB, COUNT)).as("B's paused copy never counted on").isEqualTo(atB);
        List<Integer> onA2 = XlRunner.countsContinuing(outB.toString(), outA2.toString(), COUNT);
        assertThat(onA2.getFirst()).as("first count on A, B stopped at %d", atB).isEqualTo(atB + 1);
        assertConsecutive(onA2, "counter back on A");
        assertThat(xl(b, runB, STEP, "destroy", NAME).status()).as("resolving: destroy B's paused copy").isZero();
        int ticksNow = last(ticks, TICK);
        assertThat(awaitCount(ticks, TICK, ticksNow + 4, STEP)).as("ssh session after two moves: %s", ticks)
                .isTrue();
        assertConsecutive(counts(ticks.toString(), TICK), "ssh ticks");

        String last = ssh(a, key, "sync; cat /root/data/last").strip();
        Path copy = disksA.resolve(NAME + ".vda.img");
        Result down = xl(a, runA, STEP, "shutdown", "-w", NAME);
        assertThat(down.status()).as("xl shutdown -w on A: %s", down.err()).isZero();
        session.destroyForcibly();
        ProcessBuilder fsck = new ProcessBuilder("e2fsck", "-fn", copy.toString()).redirectErrorStream(true);
        Process fp = fsck.start();
        StreamCapture fout = StreamCapture.of(fp.getInputStream());
        assertThat(fp.waitFor(2, TimeUnit.MINUTES)).isTrue();
        fout.join();
        assertThat(fp.exitValue()).as("e2fsck -fn of the mirrored image:%n%s", fout).isZero();
        String lastOnDisk = debugfs(copy, "cat /root/data/last").strip();
        assertThat(Long.parseLong(lastOnDisk)).as("files written during and after the migration")
                .isGreaterThanOrEqualTo(Long.parseLong(last));
        Path dumped = tmp.resolve("before.bin");
        debugfs(copy, "dump /root/data/before.bin " + dumped);
        assertThat(sha256(dumped)).as("file written before the migration").isEqualTo(beforeSum);
    }

    private record Fault(Process receive, ProcessHandle runner, Process migrate, StreamCapture migrateErr,
                         StreamCapture proxyOut) { }

    /** Target runner on B, the proxy in front of it, and {@code xl migrate} from A through the proxy. */
    private Fault startFault(NetNs a, NetNs b, Path runA, Path runB, Path disksB, int port, String mode, String n)
            throws Exception {
        String target = MIG_B + ":" + port;
        String proxied = MIG_B + ":" + (port + 1);
        Process receive = startXl(b, runB, "migrate-receive", "--listen", target, "--disk-dir", disksB.toString());
        StreamCapture.of(receive.getErrorStream());
        ProcessHandle runner = awaitIncomingRunner(target);
        awaitListening(runB, target);
        Process proxy = b.startJava(MigrationProxy.class, List.of(proxied, target, mode, n));
        started.add(proxy);
        StreamCapture proxyOut = StreamCapture.of(proxy.getInputStream());
        assertThat(proxyOut.awaitContains("LISTENING", STEP)).as("proxy: %s", proxyOut).isTrue();
        Process migrate = startXl(a, runA, "migrate", "--mirror-disks", "all", "--downtime-ms", "50", NAME, proxied);
        StreamCapture err = StreamCapture.of(migrate.getErrorStream());
        StreamCapture.of(migrate.getInputStream());
        return new Fault(receive, runner, migrate, err, proxyOut);
    }

    private void assertTargetGone(NetNs b, Path runB, Path disksB, ProcessHandle runner, String mode)
            throws Exception {
        Instant deadline = Instant.now().plus(STEP);
        while (runner.isAlive() && Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
        }
        assertThat(runner.isAlive()).as("target runner gone (%s)", mode).isFalse();
        assertThat(xl(b, runB, STEP, "list").out()).as("target list (%s)", mode).doesNotContain(NAME);
        try (Stream<Path> l = Files.list(disksB)) {
            assertThat(l.toList()).as("target disk directory after %s", mode).isEmpty();
        }
    }

    private void assertSourceCounts(NetNs a, Path runA, StreamCapture outA, String mode) throws Exception {
        int before = last(outA, COUNT);
        assertThat(awaitCount(outA, COUNT, before + 5, STEP)).as("source keeps counting after %s:%n%s", mode, outA)
                .isTrue();
        assertThat(listLine(a, runA)).as("source after %s", mode).contains("r-----");
    }

    private String listLine(NetNs ns, Path run) throws Exception {
        return xl(ns, run, STEP, "list").out().lines().filter(l -> l.contains(NAME)).findFirst().orElse("");
    }

    private static void assertConsecutive(List<Integer> l, String what) {
        assertThat(l).as(what).isNotEmpty();
        for (int i = 1; i < l.size(); i++) {
            assertThat(l.get(i)).as("%s step %d", what, i).isEqualTo(l.get(i - 1) + 1);
        }
    }

    private StreamCapture attachConsole(NetNs ns, Path run) throws Exception {
        return host(ns, run).attachConsole(NAME, STEP);
    }

    private static void awaitListening(Path run, String target) throws Exception {
        Path log = run.resolve("xl/incoming-" + target.replace(':', '_') + ".log");
        Instant deadline = Instant.now().plus(STEP);
        while (!(Files.exists(log) && Files.readString(log).contains("migration_listening"))) {
            assertThat(Instant.now()).as("runner for %s listens (%s)", target, log).isBefore(deadline);
            Thread.sleep(200);
        }
    }

    private static ProcessHandle awaitIncomingRunner(String target) throws InterruptedException {
        Instant deadline = Instant.now().plus(STEP);
        String needle = "--incoming " + target;
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

    private static List<Integer> counts(String out, Pattern p) {
        return XlRunner.counts(out, p);
    }

    private static int last(StreamCapture c, Pattern p) {
        return XlRunner.last(c, p);
    }

    private static boolean awaitCount(StreamCapture c, Pattern p, int atLeast, Duration timeout)
            throws InterruptedException {
        return XlRunner.awaitCount(c, p, atLeast, timeout);
    }

    private static List<String> sshCommand(Path key, String command) {
        return List.of("ssh", "-i", key.toString(), "-o", "StrictHostKeyChecking=no", "-o",
                "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o",
                "ServerAliveInterval=0", "-o", "LogLevel=ERROR", "root@" + GUEST_IP, command);
    }

    /**
     * Runs {@code command} on the guest over SSH from host A, retrying while dropbear is not up yet; each attempt may
     * take minutes on a loaded box (the first login waits for the guest's host key generation).
     */
    private String ssh(NetNs ns, Path key, String command) throws Exception {
        Instant deadline = Instant.now().plus(TIMEOUT);
        String why;
        do {
            Process p = ns.start(sshCommand(key, command), pb -> { });
            started.add(p);
            StreamCapture out = StreamCapture.of(p.getInputStream());
            StreamCapture err = StreamCapture.of(p.getErrorStream());
            if (p.waitFor(STEP.toMillis(), TimeUnit.MILLISECONDS)) {
                out.join();
                err.join();
                started.remove(p);
                if (p.exitValue() == 0) {
                    return out.toString();
                }
                why = "exit " + p.exitValue() + ": " + err;
            } else {
                p.destroyForcibly();
                why = "no answer within " + STEP + ": " + err;
            }
            Thread.sleep(2000); // dropbear may still be generating its host key
        } while (Instant.now().isBefore(deadline));
        throw new AssertionError("ssh '" + command + "' failed: " + why);
    }

    private static String debugfs(Path image, String request) throws Exception {
        Process p = new ProcessBuilder("debugfs", "-R", request, image.toString()).start();
        StreamCapture out = StreamCapture.of(p.getInputStream());
        StreamCapture err = StreamCapture.of(p.getErrorStream());
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        out.join();
        assertThat(p.exitValue()).as("debugfs -R '%s': %s", request, err).isZero();
        return out.toString();
    }

    private static String sha256(Path f) throws Exception {
        var md = java.security.MessageDigest.getInstance("SHA-256");
        return java.util.HexFormat.of().formatHex(md.digest(Files.readAllBytes(f)));
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private XlRunner host(NetNs ns, Path run) {
        return hosts.computeIfAbsent(ns.name() + ":" + run, k -> XlRunner.of(Map.of("DOMUS_RUN_DIR", run.toString()),
                (cmd, env) -> ns.start(cmd, pb -> pb.directory(repo.toFile()).environment().putAll(env))));
    }

    private Process startXl(NetNs ns, Path run, String... args) throws IOException {
        return host(ns, run).start(args);
    }

    private Result xl(NetNs ns, Path run, Duration timeout, String... args) throws Exception {
        return host(ns, run).xl(timeout, args);
    }
}
