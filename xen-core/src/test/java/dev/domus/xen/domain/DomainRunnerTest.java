// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineInfo;
import dev.domus.xen.api.MachineListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Drives a runner in-process over real Unix sockets, with a test double standing in for the machine. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DomainRunnerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private RunDir runDir;
    private final LinkedBlockingQueue<FakeMachine> machines = new LinkedBlockingQueue<>();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    /** A machine that does what it is told and records it; exits only when the test says so. */
    static final class FakeMachine implements Machine {
        final MachineConfig config;
        final MachineListener listener;
        final List<String> calls = new CopyOnWriteArrayList<>();
        final LinkedBlockingQueue<byte[]> input = new LinkedBlockingQueue<>();
        final CompletableFuture<ExitReason> exit = new CompletableFuture<>();
        volatile State state = State.CREATED;

        FakeMachine(MachineConfig config, MachineListener listener) {
            this.config = config;
            this.listener = listener;
        }

        void print(String s) {
            byte[] b = ("xx" + s).getBytes(StandardCharsets.UTF_8);
            listener.consoleOutput(b, 2, b.length - 2); // non-zero offset on purpose
        }

        void exit(ExitReason reason) {
            if (exit.complete(reason)) {
                state = State.STOPPED;
                listener.exited(reason);
            }
        }

        @Override public void start() { calls.add("start"); state = State.RUNNING; }
        @Override public void pause() { calls.add("pause"); state = State.PAUSED; }
        @Override public void resume() { calls.add("resume"); state = State.RUNNING; }
        @Override public State state() { return state; }
        @Override public void consoleInput(byte[] data) { input.add(data.clone()); }
        @Override public void requestShutdown(boolean reboot) { calls.add(reboot ? "reboot" : "shutdown"); }
        @Override public void sendControlLine(String line) { calls.add("control:" + line); }
        @Override public void destroy() { calls.add("destroy"); exit(new ExitReason.Destroyed()); }

        @Override
        public Optional<ExitReason> awaitExit(Duration timeout) throws InterruptedException {
            try {
                return Optional.of(exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            } catch (Exception e) {
                return Optional.empty();
            }
        }

        @Override public MachineInfo info() {
            return new MachineInfo(config.vcpus(), config.memoryMiB(), 123_456, 2_000, 1_500);
        }

        @Override public void close() { calls.add("close"); }
    }

    @BeforeEach
    void setUp() throws IOException {
        runDir = RunDir.at(tmp.resolve("run/xl"));
        Files.write(tmp.resolve("Image"), DomainConfigTest.riscvImage());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : cleanup.reversed()) {
            c.close();
        }
    }

    private DomainConfig config(String name, String extra) throws IOException {
        Path cfg = tmp.resolve(name + ".cfg");
        Files.writeString(cfg, "name = '" + name + "'\nmemory = 64\nvcpus = 2\nkernel = 'Image'\n" + extra);
        return DomainConfig.load(cfg, Map.of());
    }

    private DomainRunner start(DomainConfig cfg, boolean paused) {
        DomainRunner r = DomainRunner.start(cfg, runDir, (c, l) -> {
            FakeMachine m = new FakeMachine(c, l);
            machines.add(m);
            return m;
        }, paused);
        cleanup.add(r);
        return r;
    }

    private FakeMachine nextMachine() throws InterruptedException {
        FakeMachine m = machines.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(m).as("a machine was created").isNotNull();
        return m;
    }

    private DomainClient client(String name) {
        DomainClient c = DomainClient.connect(runDir, name);
        c.setCallTimeout(WAIT);
        cleanup.add(c);
        return c;
    }

    private ConsoleClient console(String name) {
        ConsoleClient c = ConsoleClient.attach(runDir, name);
        cleanup.add(c);
        return c;
    }

    private static DomainEvent nextEvent(DomainClient c) throws InterruptedException {
        return c.nextEvent(WAIT).orElseThrow(() -> new AssertionError("no event within " + WAIT));
    }

    /** Reads console output until it contains {@code expected}; returns everything read. */
    private static String readUntil(ConsoleClient c, String expected) throws Exception {
        CompletableFuture<String> f = CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[1024];
            try {
                while (!all.toString(StandardCharsets.UTF_8).contains(expected)) {
                    int n = c.read(buf, 0, buf.length);
                    if (n < 0) {
                        break;
                    }
                    all.write(buf, 0, n);
                }
            } catch (IOException e) {
                // fall through with what we have
            }
            return all.toString(StandardCharsets.UTF_8);
        });
        return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    void controlLineReachesTheMachineAndBadLinesAreRefused() throws Exception {
        start(config("ctl", ""), false);
        FakeMachine m = nextMachine();
        DomainClient c = client("ctl");
        c.controlLine("resume 00ff 1700000000");
        assertThat(m.calls).contains("control:resume 00ff 1700000000");
        assertThatThrownBy(() -> c.controlLine("two\nlines")).isInstanceOfSatisfying(DomainException.class,
                e -> assertThat(e.code()).isEqualTo(DomainException.BAD_ARGUMENT)).hasMessageContaining("printable");
        assertThatThrownBy(() -> c.controlLine("x".repeat(513))).hasMessageContaining("1..512");
        assertThat(m.calls).noneMatch(s -> s.startsWith("control:two") || s.startsWith("control:xx"));
    }

    @Test
    void infoReportsTheDomain() throws Exception {
        DomainConfig cfg = config("demo", "");
        start(cfg, false);
        FakeMachine m = nextMachine();
        awaitCalls(m, "start");
        assertThat(m.calls).containsExactly("start");
        assertThat(m.config).isEqualTo(cfg.toMachineConfig());

        DomainInfo info = client("demo").info();
        assertThat(info).isEqualTo(new DomainInfo("demo", DomainState.RUNNING, ProcessHandle.current().pid(), 2, 64,
                2_000, 1_500, 123_456, cfg.source().toString(), 0));
        assertThat(Files.readString(runDir.pidFile("demo")).strip())
                .isEqualTo(Long.toString(ProcessHandle.current().pid()));
        assertThat(runDir.domainNames()).containsExactly("demo");
        assertThat(Files.getPosixFilePermissions(runDir.path()))
                .containsExactlyInAnyOrderElementsOf(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void pauseAndUnpauseAreAnnouncedToSubscribers() throws Exception {
        start(config("demo", ""), false);
        FakeMachine m = nextMachine();
        DomainClient watcher = client("demo");
        assertThat(watcher.subscribe()).isEqualTo(DomainState.RUNNING);
        DomainClient admin = client("demo");

        admin.pause();
        assertThat(nextEvent(watcher)).isInstanceOfSatisfying(DomainEvent.StateChanged.class,
                e -> assertThat(e.state()).isEqualTo(DomainState.PAUSED));
        assertThat(admin.info().state()).isEqualTo(DomainState.PAUSED);
        admin.pause(); // idempotent, no second event
        admin.unpause();
        assertThat(nextEvent(watcher)).isInstanceOfSatisfying(DomainEvent.StateChanged.class,
                e -> assertThat(e.state()).isEqualTo(DomainState.RUNNING));
        assertThat(m.calls).containsExactly("start", "pause", "resume");
        // the admin connection never subscribed, so it has no events queued
        assertThat(admin.nextEvent(Duration.ZERO)).isEmpty();
    }

    @Test
    void guestPoweroffEndsTheDomainAndCleansUp() throws Exception {
        DomainRunner r = start(config("demo", ""), false);
        FakeMachine m = nextMachine();
        DomainClient watcher = client("demo");
        watcher.subscribe();
        watcher.shutdown(Optional.empty());
        assertThat(m.calls).contains("shutdown");

        m.exit(new ExitReason.PowerOff(0));
        assertThat(nextEvent(watcher)).isInstanceOfSatisfying(DomainEvent.Shutdown.class, e -> {
            assertThat(e.reason()).isEqualTo("poweroff");
            assertThat(e.code()).isZero();
        });
        assertThat(nextEvent(watcher)).isInstanceOfSatisfying(DomainEvent.StateChanged.class,
                e -> assertThat(e.state()).isEqualTo(DomainState.DYING));
        assertThat(r.awaitExit(WAIT.toMillis())).contains(DomainRunner.EXIT_POWEROFF);
        r.close();
        assertThat(watcher.awaitDisconnect(WAIT)).isTrue();
        assertThat(m.calls).contains("close");
        assertThat(runDir.controlSocket("demo")).doesNotExist();
        assertThat(runDir.consoleSocket("demo")).doesNotExist();
        assertThat(runDir.pidFile("demo")).doesNotExist();
        assertThat(runDir.domainNames()).isEmpty();
        assertThatThrownBy(() -> DomainClient.connect(runDir, "demo"))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.code()).isEqualTo("not_found"))
                .hasMessage("domain 'demo' does not exist");
    }

    /** Waits until the fake machine has seen {@code call}; the runner calls it from its own threads. */
    private static void awaitCalls(FakeMachine m, String call) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!m.calls.contains(call) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(m.calls).as("calls on the fake machine").contains(call);
    }

    @Test
    void rebootRestartsWithAFreshMachine() throws Exception {
        start(config("demo", ""), false);
        FakeMachine first = nextMachine();
        DomainClient c = client("demo");
        c.subscribe();
        c.reboot();
        assertThat(first.calls).contains("reboot");
        first.exit(new ExitReason.Reboot());
        assertThat(nextEvent(c)).isInstanceOf(DomainEvent.Reboot.class);
        FakeMachine second = nextMachine();
        // The runner creates the new machine before it starts it (and closes the old one): wait, don't race.
        awaitCalls(second, "start");
        awaitCalls(first, "close");
        assertThat(second.calls).containsExactly("start");
        DomainInfo info = c.info();
        assertThat(info.state()).isEqualTo(DomainState.RUNNING);
        assertThat(info.restarts()).isEqualTo(1);
        // console input now goes to the new machine
        console("demo").write(new byte[] {'x'}, 0, 1);
        assertThat(second.input.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).containsExactly('x');
    }

    @Test
    void crashIsPreservedUntilDestroy() throws Exception {
        DomainRunner r = start(config("demo", "on_crash = 'preserve'\n"), false);
        FakeMachine m = nextMachine();
        DomainClient c = client("demo");
        c.subscribe();
        m.exit(new ExitReason.Crash("kernel panic"));
        assertThat(nextEvent(c)).isInstanceOfSatisfying(DomainEvent.Crash.class,
                e -> assertThat(e.reason()).isEqualTo("kernel panic"));
        assertThat(nextEvent(c)).isInstanceOfSatisfying(DomainEvent.StateChanged.class,
                e -> assertThat(e.state()).isEqualTo(DomainState.CRASHED));
        assertThat(c.info().state()).isEqualTo(DomainState.CRASHED);
        assertThatThrownBy(c::pause).isInstanceOfSatisfying(DomainException.class,
                e -> assertThat(e.code()).isEqualTo("bad_state"))
                .hasMessage("cannot pause domain 'demo' in state crashed; destroy it instead");
        c.destroy();
        assertThat(r.awaitExit(WAIT.toMillis())).contains(DomainRunner.EXIT_DESTROYED);
        assertThat(m.calls).doesNotContain("destroy").contains("close");
    }

    @Test
    void destroyStopsTheMachineAndEndsTheRunner() throws Exception {
        DomainRunner r = start(config("demo", ""), false);
        FakeMachine m = nextMachine();
        DomainClient c = client("demo");
        c.subscribe();
        c.destroy();
        assertThat(nextEvent(c)).isInstanceOfSatisfying(DomainEvent.Shutdown.class,
                e -> assertThat(e.reason()).isEqualTo("destroyed"));
        assertThat(nextEvent(c)).isInstanceOfSatisfying(DomainEvent.StateChanged.class,
                e -> assertThat(e.state()).isEqualTo(DomainState.DYING));
        assertThat(r.awaitExit(WAIT.toMillis())).contains(DomainRunner.EXIT_DESTROYED);
        assertThat(m.calls).containsExactly("start", "destroy", "close");
    }

    @Test
    void destroyIsAnsweredEvenWhenTheRunnerClosesRightAway() throws Exception {
        DomainRunner r = start(config("demo", ""), false);
        nextMachine();
        // What DomainRunner.main does: close as soon as the domain has ended.
        Thread main = Thread.ofVirtual().start(() -> {
            try {
                r.awaitExit();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            r.close();
        });
        DomainClient c = client("demo");
        c.destroy();
        assertThat(c.awaitDisconnect(WAIT)).isTrue();
        assertThat(main.join(WAIT)).isTrue();
        assertThat(runDir.domainNames()).isEmpty();
    }

    @Test
    void shutdownTimeoutDestroysAGuestThatIgnoresIt() throws Exception {
        DomainRunner r = start(config("demo", ""), false);
        FakeMachine m = nextMachine();
        DomainClient c = client("demo");
        c.shutdown(Optional.of(Duration.ofSeconds(1)));
        assertThat(r.awaitExit(WAIT.toMillis())).contains(DomainRunner.EXIT_DESTROYED);
        assertThat(m.calls).containsExactly("start", "shutdown", "destroy", "close");
    }

    @Test
    void aDomainAwaitingAnIncomingMigrationsStateRefusesUnpause() throws Exception {
        DomainRunner r = start(config("demo", ""), true);
        FakeMachine m = nextMachine();
        r.domain().awaitIncomingState();
        DomainClient c = client("demo");
        assertThatThrownBy(c::unpause).isInstanceOfSatisfying(DomainException.class,
                e -> assertThat(e.code()).isEqualTo(DomainException.BAD_STATE))
                .hasMessageContaining("waits for an incoming migration");
        assertThat(m.calls).isEmpty();
        assertThat(c.info().state()).isEqualTo(DomainState.PAUSED);
    }

    @Test
    void pausedCreationStartsOnUnpause() throws Exception {
        start(config("demo", ""), true);
        FakeMachine m = nextMachine();
        DomainClient c = client("demo");
        assertThat(c.info().state()).isEqualTo(DomainState.PAUSED);
        assertThat(m.calls).isEmpty();
        c.unpause();
        assertThat(m.calls).containsExactly("start");
        assertThat(c.info().state()).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void consoleCarriesBytesBothWaysAndReplaysRecentOutput() throws Exception {
        start(config("demo", ""), false);
        FakeMachine m = nextMachine();
        m.print("boot log line\n");

        ConsoleClient a = console("demo");
        assertThat(readUntil(a, "line\n")).isEqualTo("boot log line\n");
        m.print("login: ");
        ConsoleClient b = console("demo");
        assertThat(readUntil(b, "login: ")).isEqualTo("boot log line\nlogin: ");
        assertThat(readUntil(a, "login: ")).isEqualTo("login: ");

        a.write("root\n".getBytes(StandardCharsets.US_ASCII), 0, 5);
        assertThat(m.input.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("root\n".getBytes());
        b.write(new byte[] {3}, 0, 1);
        assertThat(m.input.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).containsExactly(3);
    }

    @Test
    void consoleClientsSeeEndOfFileWhenTheDomainEnds() throws Exception {
        DomainRunner r = start(config("demo", ""), false);
        FakeMachine m = nextMachine();
        ConsoleClient c = console("demo");
        c.finishInput(); // like `xl console < /dev/null`: keeps receiving output
        // connect() returns once the kernel accepted the connection; the runner registers the client a moment later.
        // Seeing a first line proves it is registered, so closing the runner below cannot race the accept.
        m.print("ATTACHED\n");
        assertThat(readUntil(c, "ATTACHED\n")).isEqualTo("ATTACHED\n");
        m.print("DOMUS-RUN-EXIT=0\n");
        m.exit(new ExitReason.PowerOff(0));
        assertThat(r.awaitExit(WAIT.toMillis())).contains(DomainRunner.EXIT_POWEROFF);
        r.close();
        String all = readUntil(c, "never printed");
        assertThat(all).isEqualTo("DOMUS-RUN-EXIT=0\n");
    }

    @Test
    void staleSocketsOfADeadRunnerAreCleanedUp() throws Exception {
        runDir.create();
        // A dead runner leaves bound-then-closed socket files and a pid file behind.
        for (Path p : List.of(runDir.controlSocket("demo"), runDir.consoleSocket("demo"))) {
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            s.bind(UnixDomainSocketAddress.of(p));
            s.close();
            assertThat(p).exists();
        }
        Files.writeString(runDir.pidFile("demo"), "999999\n");

        assertThat(runDir.domainNames()).containsExactly("demo");
        assertThatThrownBy(() -> DomainClient.connect(runDir, "demo"))
                .hasMessage("domain 'demo' does not exist");
        assertThat(runDir.controlSocket("demo")).doesNotExist();
        assertThat(runDir.pidFile("demo")).doesNotExist();

        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(runDir.controlSocket("demo")));
        s.close();
        start(config("demo", ""), false);
        nextMachine();
        assertThat(client("demo").info().state()).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void aSecondRunnerWithTheSameNameIsRefused() throws Exception {
        start(config("demo", ""), false);
        nextMachine();
        DomainConfig again = config("demo", "");
        assertThatThrownBy(() -> start(again, false))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.code()).isEqualTo("exists"))
                .hasMessage("domain 'demo' already exists (runner pid " + ProcessHandle.current().pid() + ")");
        assertThat(machines).isEmpty();
        // the first one is untouched
        assertThat(client("demo").info().state()).isEqualTo(DomainState.RUNNING);
        assertThat(runDir.isHeld("demo")).isTrue();
    }

    @Test
    void factoryFailureLeavesNothingBehind() throws Exception {
        DomainConfig cfg = config("demo", "");
        assertThatThrownBy(() -> DomainRunner.start(cfg, runDir, (c, l) -> {
            throw new UnsupportedOperationException("CPU engine not merged yet");
        }, false)).isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.code()).isEqualTo("launch"))
                .hasMessage("cannot create machine for domain 'demo': CPU engine not merged yet");
        assertThat(runDir.domainNames()).isEmpty();
        assertThat(runDir.consoleSocket("demo")).doesNotExist();
        assertThat(runDir.isHeld("demo")).isFalse();
    }

    @Test
    void malformedRequestsGetErrorRepliesAndTheConnectionSurvives() throws Exception {
        start(config("demo", ""), false);
        nextMachine();
        DomainClient c = client("demo");

        c.send("hello, not json");
        Map<String, Object> reply = c.unmatched.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(reply).containsEntry("ok", false);
        assertThat(error(reply)).containsEntry("code", "bad_request");
        assertThat((String) error(reply).get("message")).startsWith("malformed JSON: unexpected character 'h'");

        c.send("[1,2]");
        assertThat(error(c.unmatched.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)))
                .containsEntry("message", "malformed JSON: expected a JSON object at offset 0");
        c.send("{\"id\":true,\"cmd\":\"info\"}");
        assertThat(error(c.unmatched.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)))
                .containsEntry("message", "id must be an integer or a string");
        c.send("x".repeat(Protocol.MAX_REQUEST_LINE + 10));
        assertThat(error(c.unmatched.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)))
                .containsEntry("message", "request line longer than 65536 bytes");

        assertCallFails(c, "nope", Map.of(), "unknown_command",
                "unknown command 'nope'; known: info, pause, unpause, shutdown, reboot, destroy, save, dirty-log, "
                        + "migrate, migrate-cancel, subscribe, quit");
        assertCallFails(c, "save", Map.of("file", "relative.snap"), "bad_argument",
                "save needs \"file\", an absolute path");
        assertCallFails(c, "save", Map.of("file", "/tmp/x.snap", "checkpoint", "yes"), "bad_argument",
                "checkpoint must be true or false");
        assertCallFails(c, "dirty-log", Map.of("action", "maybe"), "bad_argument",
                "dirty-log action must be start, stop or fetch, got 'maybe'");
        assertCallFails(c, "migrate", Map.of("target", "nohost"), "bad_argument",
                "expected host:port, got 'nohost'");
        assertCallFails(c, "migrate", Map.of("target", "127.0.0.1:9", "mirror_disks", "vda"), "bad_argument",
                "mirror_disks must be a list of disk names (vda, ...) or [\"all\"]");
        assertCallFails(c, "migrate", Map.of("target", "127.0.0.1:9", "mirror_disks", List.of("sda")),
                "bad_argument", "mirror_disks entries must be vda..vdz or all, got sda");
        assertCallFails(c, "migrate", Map.of("target", "127.0.0.1:9", "mirror_disks", List.of("vdq")),
                "bad_argument", "domain 'demo' has no disk vdq to mirror");
        assertCallFails(c, "migrate-cancel", Map.of(), "bad_state", "domain 'demo' is not being migrated");
        assertCallFails(c, "info", Map.of("verbose", true), "bad_argument", "unknown argument 'verbose' for info");
        assertCallFails(c, "shutdown", Map.of("timeout_s", "soon"), "bad_argument",
                "timeout_s must be an integer 1..86400, got \"soon\"");
        assertCallFails(c, "shutdown", Map.of("timeout_s", 0L), "bad_argument",
                "timeout_s must be an integer 1..86400, got 0");

        assertThat(c.info().state()).isEqualTo(DomainState.RUNNING);
        assertThat(c.isConnected()).isTrue();
    }

    @Test
    void requestsWithoutIdAndStringIdsAreAnswered() throws Exception {
        start(config("demo", ""), false);
        nextMachine();
        DomainClient c = client("demo");
        c.send("{\"cmd\":\"pause\"}");
        assertThat(c.unmatched.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(Json.obj("ok", true,
                "result", Json.obj()));
        c.send("{\"id\":\"abc\",\"cmd\":\"nope\"}");
        assertThat(c.unmatched.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).containsEntry("id", "abc")
                .containsEntry("ok", false);
    }

    @Test
    void quitClosesOnlyThatConnection() throws Exception {
        start(config("demo", ""), false);
        nextMachine();
        DomainClient c = client("demo");
        c.call("quit", Map.of());
        assertThat(c.awaitDisconnect(WAIT)).isTrue();
        assertThat(client("demo").info().state()).isEqualTo(DomainState.RUNNING);
    }

    private static void assertCallFails(DomainClient c, String cmd, Map<String, Object> args, String code,
                                        String message) {
        assertThatThrownBy(() -> c.call(cmd, args))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.code()).isEqualTo(code))
                .hasMessage(message);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> error(Map<String, Object> reply) {
        assertThat(reply).as("reply").isNotNull().containsEntry("ok", false);
        return (Map<String, Object>) reply.get("error");
    }
}
