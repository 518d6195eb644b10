// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.guestimage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference smoke test of the guest image pipeline ({@code deploy/guest/build}): boots the built kernel, initramfs
 * and root disk under QEMU's {@code virt} machine and checks the init contract (ready marker, {@code domus.run64},
 * {@code DOMUS-RUN-EXIT}, clean power-off). QEMU is only the test-time reference the Domus machine is compared to;
 * without it this test fails rather than skips, so a CI machine cannot silently lose the coverage.
 * {@code -Ddomus.guest.dir=<dir>} boots an already built output directory instead of running the build.
 */
class GuestImageQemuSmokeIT {

    private static final String READY = "DOMUS-GUEST-READY";
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(40);
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);

    private static Path repoRoot;
    private static Path imageDir;
    private static Path logDir;

    @BeforeAll
    static void buildGuestImage() throws Exception {
        repoRoot = findRepoRoot();
        logDir = Path.of(System.getProperty("user.dir"), "target", "guest-image-it");
        Files.createDirectories(logDir);
        qemuBinary(); // fail fast, before a possibly long image build

        String prebuilt = System.getProperty("domus.guest.dir", "");
        imageDir = prebuilt.isBlank() ? buildWithScript() : Path.of(prebuilt);
        for (String name : List.of("Image", "initramfs.cpio.gz", "rootfs.ext4", "manifest.txt")) {
            assertThat(imageDir.resolve(name)).as("build output " + name).isRegularFile();
        }
    }

    /** Runs {@code deploy/guest/build --print-dir}: a cache hit returns at once, a first build takes minutes. */
    private static Path buildWithScript() throws Exception {
        Path build = repoRoot.resolve("deploy/guest/build");
        assertThat(build).as("guest image build script").isExecutable();
        Path stdout = logDir.resolve("build.stdout");
        Path stderr = logDir.resolve("build.stderr.log");
        Process process = new ProcessBuilder(build.toString(), "--print-dir")
                .directory(repoRoot.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .start();
        if (!process.waitFor(BUILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("deploy/guest/build --print-dir did not finish within " + BUILD_TIMEOUT + "; log: " + stderr
                    + "\n" + tail(stderr, 40));
        }
        if (process.exitValue() != 0) {
            fail("deploy/guest/build --print-dir failed with exit code " + process.exitValue() + "; log: " + stderr
                    + "\n" + tail(stderr, 40));
        }
        List<String> lines = Files.readAllLines(stdout);
        assertThat(lines).as("stdout of --print-dir must be exactly the output directory").hasSize(1);
        return Path.of(lines.getFirst());
    }

    @Test
    void initramfsRunsCommandFromKernelCommandLineAndPowersOff(TestInfo info) throws Exception {
        String script = "echo hello-from-guest; nproc";
        List<String> command = qemuCommand(
                "console=ttyS0 domus.run64=" + base64(script),
                "-initrd", imageDir.resolve("initramfs.cpio.gz").toString());

        try (GuestConsole guest = GuestConsole.start(command, consoleLog(info))) {
            guest.awaitLine(READY::equals, "ready marker " + READY);
            int hello = guest.awaitLine("hello-from-guest"::equals, "output of the domus.run64 script");
            guest.awaitLineAfter(hello, "2"::equals, "nproc = 2 (-smp 2)");
            guest.awaitLine("DOMUS-RUN-EXIT=0"::equals, "run exit marker with status 0");
            guest.awaitCleanExit();
        }
    }

    @Test
    void rootDiskBootsWithDropbearAndStaysClean(TestInfo info, @TempDir Path temp) throws Exception {
        Path disk = temp.resolve("rootfs.ext4");
        Files.copy(imageDir.resolve("rootfs.ext4"), disk, StandardCopyOption.COPY_ATTRIBUTES);
        String script = String.join("\n",
                "test -x /usr/sbin/dropbear && echo has-dropbear",
                "test -s /etc/dropbear/dropbear_ed25519_host_key && echo has-host-key",
                "pidof dropbear >/dev/null && echo dropbear-running",
                "grep -q ' / ext4 rw' /proc/mounts && echo root-ext4-rw",
                "");
        List<String> command = qemuCommand(
                "console=ttyS0 root=/dev/vda rw domus.run64=" + base64(script),
                "-drive", "file=" + disk + ",format=raw,if=none,id=hd0",
                "-device", "virtio-blk-device,drive=hd0");

        try (GuestConsole guest = GuestConsole.start(command, consoleLog(info))) {
            guest.awaitLine(READY::equals, "ready marker " + READY);
            guest.awaitLine("has-dropbear"::equals, "static dropbear installed at /usr/sbin/dropbear");
            guest.awaitLine("has-host-key"::equals, "dropbear host key generated on first boot");
            guest.awaitLine("dropbear-running"::equals, "dropbear started by init");
            guest.awaitLine("root-ext4-rw"::equals, "root=/dev/vda mounted read-write as ext4");
            guest.awaitLine("DOMUS-RUN-EXIT=0"::equals, "run exit marker with status 0");
            guest.awaitCleanExit();
        }

        ToolResult fsck = runTool(Duration.ofSeconds(60), tool("e2fsck"), "-fn", disk.toString());
        assertThat(fsck.exitCode()).as("e2fsck -fn after a clean guest power-off:\n" + fsck.output()).isZero();
    }

    @Test
    void rootDiskAcceptsSshWithKeyAndNetworkFromCommandLine(TestInfo info, @TempDir Path temp) throws Exception {
        Path disk = temp.resolve("rootfs.ext4");
        Files.copy(imageDir.resolve("rootfs.ext4"), disk, StandardCopyOption.COPY_ATTRIBUTES);
        Path key = temp.resolve("id_ed25519");
        runTool(Duration.ofSeconds(30), tool("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", "smoke-it",
                "-f", key.toString());
        String publicKey = Files.readString(temp.resolve("id_ed25519.pub")).strip();
        int port = freeLocalPort();
        // QEMU user networking: the guest is 10.0.2.15/24 behind 10.0.2.2; host port -> guest 22.
        List<String> command = qemuCommand(
                "console=ttyS0 root=/dev/vda rw domus.hostname=smoke domus.ip=10.0.2.15/24 domus.gw=10.0.2.2"
                        + " domus.sshkey64=" + base64(publicKey),
                "-drive", "file=" + disk + ",format=raw,if=none,id=hd0",
                "-device", "virtio-blk-device,drive=hd0",
                "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:" + port + "-:22",
                "-device", "virtio-net-device,netdev=n0");

        try (GuestConsole guest = GuestConsole.start(command, consoleLog(info))) {
            guest.awaitLine(READY::equals, "ready marker " + READY);
            List<String> ssh = List.of(tool("ssh"), "-i", key.toString(), "-p", Integer.toString(port),
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "ConnectTimeout=30", "-o", "LogLevel=ERROR", "root@127.0.0.1");
            List<String> hello = new ArrayList<>(ssh);
            hello.add("echo ssh-ok uid=$(id -u) host=$(hostname) route=$(ip route | grep -c 'default via 10.0.2.2')");
            ToolResult result = runTool(Duration.ofSeconds(90), hello.toArray(String[]::new));
            assertThat(result.output()).as("ssh into the guest with the key from domus.sshkey64 (exit %d)",
                    result.exitCode()).contains("ssh-ok uid=0 host=smoke route=1");

            List<String> poweroff = new ArrayList<>(ssh);
            poweroff.add("poweroff");
            runTool(Duration.ofSeconds(60), poweroff.toArray(String[]::new)); // the session dies with the guest
            guest.awaitCleanExit();
        }
        ToolResult fsck = runTool(Duration.ofSeconds(60), tool("e2fsck"), "-fn", disk.toString());
        assertThat(fsck.exitCode()).as("e2fsck -fn after power-off over ssh:\n" + fsck.output()).isZero();
    }

    @Test
    void busyboxPoweroffSignalsInitForAGracefulShutdown(TestInfo info) throws Exception {
        // The same signal path (USR2 to PID 1) that the ttyS1 control channel uses for "poweroff".
        List<String> command = qemuCommand(
                "console=ttyS0 domus.run64=" + base64("echo before-poweroff; poweroff; sleep 30; echo not-reached"),
                "-initrd", imageDir.resolve("initramfs.cpio.gz").toString());

        try (GuestConsole guest = GuestConsole.start(command, consoleLog(info))) {
            guest.awaitLine("before-poweroff"::equals, "script output before poweroff");
            guest.awaitCleanExit();
            assertThat(guest.lines()).as("the script must be ended by the shutdown").doesNotContain("not-reached");
        }
    }

    @Test
    void sysrqTriggerPanicsTheKernel(TestInfo info) throws Exception {
        // MAGIC_SYSRQ is in the kernel so tests of the Domus machine can provoke a guest crash (on_crash paths).
        List<String> command = qemuCommand(
                "console=ttyS0 domus.run64=" + base64("echo c > /proc/sysrq-trigger"),
                "-initrd", imageDir.resolve("initramfs.cpio.gz").toString());

        try (GuestConsole guest = GuestConsole.start(command, consoleLog(info))) {
            guest.awaitLine(READY::equals, "ready marker " + READY);
            guest.awaitLine(line -> line.contains("Kernel panic - not syncing: sysrq triggered crash"),
                    "kernel panic from the sysrq trigger");
            // PANIC_TIMEOUT=0: the guest stays halted; closing the console stops QEMU.
        }
    }

    @Test
    void controlChannelPoweroffShutsDownAnInteractiveGuest(TestInfo info, @TempDir Path temp) throws Exception {
        // QEMU's virt machine has one UART, so the channel is the virtio serial port named "domus.ctl" (init's
        // fallback when there is no ttyS1). This test is the server; QEMU connects when it starts.
        Path socket = temp.resolve("ctl.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            List<String> command = qemuCommand("console=ttyS0",
                    "-initrd", imageDir.resolve("initramfs.cpio.gz").toString(),
                    "-chardev", "socket,id=ctl,path=" + socket,
                    "-device", "virtio-serial-device",
                    "-device", "virtserialport,chardev=ctl,name=domus.ctl");
            try (GuestConsole guest = GuestConsole.start(command, consoleLog(info));
                    SocketChannel channel = acceptWithin(server, Duration.ofSeconds(30))) {
                LineCollector control = guest.collect("control channel", Channels.newInputStream(channel));
                guest.awaitLine(control, "DOMUS-CTL-READY"::equals, "control channel ready line");
                guest.awaitLine(READY::equals, "ready marker " + READY + " (interactive shell, no domus.run64)");
                channel.write(ByteBuffer.wrap("poweroff\n".getBytes(StandardCharsets.US_ASCII)));
                guest.awaitLine(control, "DOMUS-CTL-ACK poweroff"::equals, "acknowledgement of poweroff");
                guest.awaitCleanExit();
            }
        }
    }

    private record ToolResult(int exitCode, String output) {
    }

    /** Runs a host tool with stdin closed, collecting stdout+stderr; fails the test on timeout. */
    private static ToolResult runTool(Duration timeout, String... command) throws Exception {
        Path output = Files.createTempFile(logDir, "tool", ".out");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not finish within " + timeout + ":\n" + Files.readString(output));
            }
            return new ToolResult(process.exitValue(), Files.readString(output));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static int freeLocalPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static SocketChannel acceptWithin(ServerSocketChannel server, Duration timeout) throws Exception {
        try (ExecutorService executor = Executors.newSingleThreadExecutor()) {
            Future<SocketChannel> accepted = executor.submit(server::accept);
            try {
                return accepted.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                server.close(); // unblocks accept()
                return fail("QEMU did not connect to the control socket within " + timeout);
            }
        }
    }

    private static List<String> qemuCommand(String append, String... extra) {
        List<String> command = new ArrayList<>(List.of(qemuBinary(),
                "-M", "virt", "-smp", "2", "-m", "256M", "-nographic", "-no-reboot",
                "-bios", "default",
                "-kernel", imageDir.resolve("Image").toString(),
                "-append", append));
        command.addAll(List.of(extra));
        return command;
    }

    private Path consoleLog(TestInfo info) {
        return logDir.resolve(info.getTestMethod().orElseThrow().getName() + ".console.log");
    }

    private static String base64(String script) {
        return Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
    }

    private static String qemuBinary() {
        return findOnPath("qemu-system-riscv64").orElseGet(() -> fail(
                "qemu-system-riscv64 not found on PATH: install the Debian package qemu-system-misc"
                        + " (QEMU is the reference emulator this smoke test boots the guest image on)"));
    }

    private static String tool(String name) {
        return findOnPath(name).orElseGet(() -> fail(name + " not found on PATH, /usr/sbin or /sbin"
                + " (Debian packages: e2fsck = e2fsprogs, ssh and ssh-keygen = openssh-client)"));
    }

    private static Optional<String> findOnPath(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin"));
        return dirs.stream()
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, name))
                .filter(Files::isExecutable)
                .map(Path::toString)
                .findFirst();
    }

    private static Path findRepoRoot() {
        String property = System.getProperty("domus.repo.root");
        if (property != null && !property.isBlank()) {
            return Path.of(property).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mvnw"))) {
                return dir;
            }
        }
        return fail("cannot find the repository root: set -Ddomus.repo.root or run below a directory holding mvnw");
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /**
     * Lines read from a stream (QEMU's stdio console, the control socket) on a reader thread. Waiters block on a
     * condition until a matching line arrives, the stream ends or the shared deadline passes: no fixed sleeps.
     */
    private static final class LineCollector {
        private final String name;
        private final long deadlineNanos;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final List<String> lines = new ArrayList<>();
        private final StringBuilder partial = new StringBuilder();
        private final Thread reader;
        private boolean eof;

        LineCollector(String name, InputStream in, long deadlineNanos) {
            this.name = name;
            this.deadlineNanos = deadlineNanos;
            this.reader = Thread.ofPlatform().daemon().name("lines-" + name).start(() -> pump(in));
        }

        private void pump(InputStream in) {
            byte[] buffer = new byte[4096];
            try (in) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    String chunk = new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
                    lock.lock();
                    try {
                        for (int i = 0; i < chunk.length(); i++) {
                            char c = chunk.charAt(i);
                            if (c == '\n') {
                                lines.add(stripCr(partial));
                                partial.setLength(0);
                            } else {
                                partial.append(c);
                            }
                        }
                        changed.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
            } catch (IOException e) {
                // The peer went away (process destroyed, socket closed): keep what was read for the report.
            } finally {
                lock.lock();
                try {
                    if (!partial.isEmpty()) {
                        lines.add(stripCr(partial));
                        partial.setLength(0);
                    }
                    eof = true;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }

        private static String stripCr(StringBuilder line) {
            int end = line.length();
            while (end > 0 && line.charAt(end - 1) == '\r') {
                end--;
            }
            return line.substring(0, end);
        }

        /** Index of the first line after {@code after} matching {@code predicate}; else calls {@code fail}. */
        int awaitLineAfter(int after, Predicate<String> predicate, String what, Consumer<String> fail)
                throws InterruptedException {
            lock.lock();
            try {
                int next = after + 1;
                while (true) {
                    for (; next < lines.size(); next++) {
                        if (predicate.test(lines.get(next))) {
                            return next;
                        }
                    }
                    long left = deadlineNanos - System.nanoTime();
                    if (eof) {
                        fail.accept(name + " ended before it showed: " + what);
                    } else if (left <= 0) {
                        fail.accept("timed out after " + BOOT_TIMEOUT.toSeconds() + " s waiting on " + name + " for: "
                                + what);
                    } else {
                        changed.awaitNanos(left);
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        List<String> lines() {
            lock.lock();
            try {
                return List.copyOf(lines);
            } finally {
                lock.unlock();
            }
        }

        void join() throws InterruptedException {
            reader.join(Duration.ofSeconds(10));
        }
    }

    /** A QEMU process with its serial console (stdio) collected line by line; one deadline covers the boot. */
    private static final class GuestConsole implements AutoCloseable {
        private final Process process;
        private final Path logFile;
        private final long deadlineNanos;
        private final LineCollector console;

        private GuestConsole(Process process, Path logFile) {
            this.process = process;
            this.logFile = logFile;
            this.deadlineNanos = System.nanoTime() + BOOT_TIMEOUT.toNanos();
            this.console = new LineCollector("guest console", process.getInputStream(), deadlineNanos);
        }

        static GuestConsole start(List<String> command, Path logFile) throws IOException {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            return new GuestConsole(process, logFile);
        }

        /** Waits for a console line matching {@code predicate}; returns its index. */
        int awaitLine(Predicate<String> predicate, String what) throws InterruptedException {
            return awaitLineAfter(-1, predicate, what);
        }

        int awaitLineAfter(int after, Predicate<String> predicate, String what) throws InterruptedException {
            return console.awaitLineAfter(after, predicate, what, this::failWithConsole);
        }

        /** Reads another stream (e.g. the control socket) against the same boot deadline. */
        LineCollector collect(String name, InputStream in) {
            return new LineCollector(name, in, deadlineNanos);
        }

        int awaitLine(LineCollector other, Predicate<String> predicate, String what) throws InterruptedException {
            return other.awaitLineAfter(-1, predicate, what,
                message -> failWithConsole(message + "\n----- " + other.name + " -----\n"
                            + String.join("\n", other.lines())));
        }

        /** Waits for QEMU to exit by itself (guest power-off) with status 0 before the boot deadline. */
        void awaitCleanExit() throws InterruptedException {
            long left = deadlineNanos - System.nanoTime();
            if (!process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                failWithConsole("QEMU did not exit (guest power-off) within " + BOOT_TIMEOUT.toSeconds() + " s");
            }
            console.join();
            if (process.exitValue() != 0) {
                failWithConsole("QEMU exited with status " + process.exitValue() + ", expected 0 (clean power-off)");
            }
        }

        List<String> lines() {
            return console.lines();
        }

        private void failWithConsole(String message) {
            fail(message + "\n----- guest console (" + logFile + ") -----\n" + String.join("\n", lines())
                    + "\n----- end of console -----");
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            console.join();
            try {
                Files.write(logFile, lines());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
