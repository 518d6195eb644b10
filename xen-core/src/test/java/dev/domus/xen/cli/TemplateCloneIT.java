// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.domain.ConsoleClient;
import dev.domus.xen.domain.DomainClient;
import dev.domus.xen.domain.DomainConfig;
import dev.domus.xen.domain.DomainLauncher;
import dev.domus.xen.domain.RunDir;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Template snapshot -> clones with {@code xl restore <file> --config <cfg>} on the real guest image: a template
 * boot ({@code domus.template=1}, initramfs, placeholder disks) is saved at its marker; a config whose shape differs
 * is refused with every difference named and nothing started; two clones restored with their own root disk and
 * config drive resume on {@code resume <seed>}, boot their own disk and differ in hostname and CRNG output; a
 * reboot of a clone is a cold boot of its own config. The second clone is restored by a standby runner (a runner
 * JVM started ahead, warmed up by a throw-away clone that no run directory lists) and is then an ordinary domain
 * under its own name and pid file.
 */
class TemplateCloneIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("domus.it.timeout.seconds", 900));
    private static final Pattern PROBE = Pattern.compile("R=([0-9a-f]{32}) H=(\\S+) E=END");

    @TempDir
    Path tmp;

    private RunDir runDir;
    private final List<String> domains = new ArrayList<>();

    private record Result(int status, String out, String err) { }

    private Result xl(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Xl(new java.io.ByteArrayInputStream(new byte[0]), new PrintStream(out, true),
                new PrintStream(err, true), runDir, Map.of()).run(args);
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (runDir == null) {
            return;
        }
        for (String d : domains) {
            if (runDir.isHeld(d)) {
                xl("destroy", d);
            }
        }
        for (String d : domains) {
            try {
                awaitGone(d);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        // The short run dir lives outside @TempDir (socket path length): remove it too.
        try (var s = Files.walk(runDir.path().getParent())) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void templateClonesAreRestoredWithTheirOwnDisksAndReseeded() throws Exception {
        runDir = RunDir.at(Files.createTempDirectory(Path.of("/tmp"), "tcit").resolve("xl"));
        Path guest = guestDir();
        Path rootPh = tmp.resolve("ph-root.img");
        Path cfgPh = tmp.resolve("ph-cfg.img");
        sparse(rootPh, 256L << 20);
        sparse(cfgPh, 4L << 20);
        Path tplCfg = cfg("tcit-tpl", guest, true, rootPh, cfgPh, 192, "destroy");
        domains.add("tcit-tpl");
        Result create = xl("create", tplCfg.toString());
        assertThat(create.status()).as("xl create template: %s", create.err()).isZero();
        assertThat(awaitConsole("tcit-tpl", "DOMUS-TEMPLATE-READY", 1, TIMEOUT)).as("template marker").isTrue();
        Path snap = tmp.resolve("tpl.snap");
        Result save = xl("save", "tcit-tpl", snap.toString());
        assertThat(save.status()).as("xl save: %s", save.err()).isZero();
        awaitGone("tcit-tpl");

        // A config of another shape: one error naming the difference, and nothing runs.
        Path badCfg = cfg("tcit-bad", guest, false, rootPh, cfgPh, 256, "restart");
        Result bad = xl("restore", snap.toString(), "--config", badCfg.toString());
        assertThat(bad.status()).isNotZero();
        assertThat(bad.err()).contains("does not fit the snapshot of domain 'tcit-tpl'").contains("memory 256 MiB");
        assertThat(runDir.isHeld("tcit-bad")).isFalse();

        List<String> rng = new ArrayList<>();
        for (int n = 1; n <= 2; n++) {
            String name = "tcit-clone" + n;
            Path root = tmp.resolve(name + "-root.img");
            Files.copy(guest.resolve("rootfs.ext4"), root);
            Path cd = tmp.resolve(name + "-cfg.d");
            Files.createDirectories(cd);
            Files.writeString(cd.resolve("hostname"), name + "\n");
            Files.writeString(cd.resolve("vps-id"), "id-" + n + "\n");
            Path cfgDrive = tmp.resolve(name + "-cfg.img");
            Process mk = new ProcessBuilder("mke2fs", "-q", "-F", "-t", "ext4", "-L", "domus-cfg", "-d", cd.toString(),
                    cfgDrive.toString(), "4M").redirectErrorStream(true).start();
            assertThat(mk.waitFor(60, TimeUnit.SECONDS) && mk.exitValue() == 0).as("mke2fs").isTrue();
            // The root disk must have the placeholder's size: the template kernel knows that capacity.
            sparse(root, 256L << 20);
            Path cfg = cfg(name, guest, false, root, cfgDrive, 192, "restart");
            domains.add(name);
            if (n == 1) {
                Result r = xl("restore", snap.toString(), "--config", cfg.toString());
                assertThat(r.status()).as("xl restore --config: %s", r.err()).isZero();
            } else {
                restoreByStandby(guest, snap, name, cfg);
            }
            byte[] seed = new byte[32];
            new SecureRandom().nextBytes(seed);
            try (DomainClient c = DomainClient.connect(runDir, name)) {
                c.controlLine("resume " + HexFormat.of().formatHex(seed) + " " + (System.currentTimeMillis() / 1000));
            }
            assertThat(awaitConsole(name, "DOMUS-GUEST-READY", 1, TIMEOUT)).as("%s ready", name).isTrue();
            String probe = probe(name);
            Matcher m = PROBE.matcher(probe);
            assertThat(m.find()).as("probe output of %s: %s", name, probe).isTrue();
            assertThat(m.group(2)).isEqualTo(name);
            rng.add(m.group(1));
        }
        assertThat(rng.get(0)).as("the clones' CRNG output").isNotEqualTo(rng.get(1));

        // Reboot: the runner builds the clone's own config afresh (no template, no resume needed).
        assertThat(xl("reboot", "tcit-clone1").status()).isZero();
        assertThat(awaitConsole("tcit-clone1", "DOMUS-GUEST-READY", 2, TIMEOUT)).as("ready after reboot").isTrue();
        assertThat(probe("tcit-clone1")).contains("H=tcit-clone1");
    }

    /**
     * A standby runner warmed up by a throw-away clone of the template (its own scratch disks, resumed until the
     * ready marker), which no run directory lists, then restoring {@code name} under its config.
     */
    private void restoreByStandby(Path guest, Path snap, String name, Path cfg) throws Exception {
        Path wroot = tmp.resolve("warm-root.img");
        Files.copy(guest.resolve("rootfs.ext4"), wroot);
        sparse(wroot, 256L << 20);
        Path wcfgDrive = tmp.resolve("warm-cfg.img");
        sparse(wcfgDrive, 4L << 20);
        Path wcfg = cfg("tcit-warm", guest, false, wroot, wcfgDrive, 192, "destroy");
        byte[] wseed = new byte[32];
        new SecureRandom().nextBytes(wseed);
        DomainLauncher launcher = new DomainLauncher(runDir, Map.of());
        DomainLauncher.Standby standby = launcher.standby(java.util.Optional.of(new DomainLauncher.Warmup(snap, wcfg,
                "resume " + HexFormat.of().formatHex(wseed), "DOMUS-GUEST-READY", Duration.ofMinutes(10))), TIMEOUT);
        try {
            assertThat(standby.isAlive()).isTrue();
            // Idle and after its warm-up: no name, socket or pid file of it anywhere, so nothing lists or adopts it.
            assertThat(runDir.domainNames()).doesNotContain("tcit-warm").doesNotContain(name);
            assertThat(runDir.isHeld("tcit-warm")).isFalse();
            Result list = xl("list");
            assertThat(list.out()).doesNotContain("tcit-warm").doesNotContain(String.valueOf(standby.pid()));
            boolean root = "root".equals(System.getProperty("user.name"));
            if (root) {
                assertThat(niceValues(standby.pid())).as("an idle standby runs at the lowest priority").containsOnly(19);
            }
            DomainLauncher.Launched l = standby.restore(snap, java.util.Optional.of(DomainConfig.load(cfg)), false,
                    TIMEOUT);
            if (root) {
                assertThat(niceValues(standby.pid())).as("the restored domain runs at normal priority").containsOnly(0);
            }
            assertThat(l.pid()).isEqualTo(standby.pid());
            assertThat(standby.isAlive()).as("used").isFalse();
            // Now an ordinary domain: its name is held, its pid file names the standby's process.
            assertThat(runDir.isHeld(name)).isTrue();
            assertThat(runDir.recordedPid(name)).contains(standby.pid());
            assertThat(xl("list").out()).contains(name);
            assertThat(Files.readString(runDir.logFile(name))).contains("event=standby_takeover");
        } finally {
            standby.close();
        }
    }

    /** The nice value of every thread of {@code pid} (field 19 of /proc/<pid>/task/<tid>/stat). */
    private static java.util.Set<Integer> niceValues(long pid) throws IOException {
        java.util.Set<Integer> out = new java.util.HashSet<>();
        try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks) {
                String stat = Files.readString(t.resolve("stat"));
                // After "(comm)" (which may hold spaces): state is field 3, nice field 19.
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                out.add(Integer.parseInt(f[19 - 3]));
            }
        }
        return out;
    }

    /** Types a probe into the clone's console shell and returns what came back. */
    private String probe(String name) throws Exception {
        try (ConsoleClient c = ConsoleClient.attach(runDir, name)) {
            byte[] cmd = "echo R=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \\n') H=$(hostname) E=END\n"
                    .getBytes(StandardCharsets.US_ASCII);
            CompletableFuture<String> f = readUntil(c, s -> PROBE.matcher(s).find(), Duration.ofMinutes(5));
            c.write(cmd, 0, cmd.length);
            return f.get(6, TimeUnit.MINUTES);
        }
    }

    private boolean awaitConsole(String name, String marker, int times, Duration timeout) throws Exception {
        try (ConsoleClient c = ConsoleClient.attach(runDir, name)) {
            java.util.function.Predicate<String> enough = s -> count(s, marker) >= times;
            String got = readUntil(c, enough, timeout).get(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
            return enough.test(got);
        }
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    /** Reads the console (replay buffer first) until {@code done} holds or the timeout passes. */
    private static CompletableFuture<String> readUntil(ConsoleClient c, java.util.function.Predicate<String> done,
                                                       Duration timeout) {
        return CompletableFuture.supplyAsync(() -> {
            StringBuilder all = new StringBuilder();
            byte[] buf = new byte[4096];
            long deadline = System.nanoTime() + timeout.toNanos();
            Thread guard = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(timeout);
                    c.close();
                } catch (InterruptedException e) {
                    // done in time
                }
            });
            try {
                int n;
                while (System.nanoTime() < deadline && (n = c.read(buf, 0, buf.length)) >= 0) {
                    all.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    if (done.test(all.toString())) {
                        break;
                    }
                }
            } catch (IOException e) {
                // closed by the guard: return what we have
            } finally {
                guard.interrupt();
            }
            return all.toString();
        });
    }

    private Path cfg(String name, Path guest, boolean template, Path root, Path cfgDrive, int memory, String onReboot)
            throws IOException {
        Path f = tmp.resolve(name + ".cfg");
        Files.writeString(f, "name = '" + name + "'\nmemory = " + memory + "\nvcpus = 1\n"
                + "kernel = '" + guest.resolve("Image") + "'\n"
                + (template ? "ramdisk = '" + guest.resolve("initramfs.cpio.gz") + "'\n" : "")
                + "extra = 'console=hvc1 root=/dev/vda rw" + (template ? " domus.template=1" : "") + "'\n"
                + "disk = [ '" + root + ",rw,vda', '" + cfgDrive + ",ro,vdb' ]\n"
                + "on_poweroff = 'destroy'\non_reboot = '" + onReboot + "'\non_crash = 'destroy'\n");
        return f;
    }

    private void awaitGone(String name) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (runDir.isHeld(name) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(runDir.isHeld(name)).as("%s ended", name).isFalse();
    }

    private static void sparse(Path f, long bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(bytes);
        }
    }

    /** -Ddomus.guest.dir, $DOMUS_GUEST_DIR, else what deploy/guest/build reports. */
    private static Path guestDir() throws Exception {
        String prop = System.getProperty("domus.guest.dir", "");
        if (!prop.isEmpty()) {
            return Path.of(prop);
        }
        String env = System.getenv("DOMUS_GUEST_DIR");
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isExecutable(p.resolve("deploy/guest/build"))) {
            p = p.getParent();
        }
        assertThat(p).as("deploy/guest/build above the working directory").isNotNull();
        Process b = new ProcessBuilder(p.resolve("deploy/guest/build").toString(), "--print-dir")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(b.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(b.waitFor(40, TimeUnit.MINUTES) && b.exitValue() == 0).as("deploy/guest/build").isTrue();
        return Path.of(out);
    }
}
