// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.boot.Machines;
import dev.domus.xen.snapshot.SnapshotException;
import dev.domus.xen.snapshot.SnapshotImage;
import dev.domus.xen.snapshot.Snapshots;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one domain in this JVM: {@code java ... dev.domus.xen.domain.DomainRunner --config <cfg> [--paused]
 * [--run-dir <dir>]}. It claims the name in the run directory, serves the control and console sockets, applies the
 * lifecycle policy and exits when the domain ends. On stdout it prints exactly one line for whoever started it,
 * {@code ready <pid>} or {@code error <code> <message>}, then closes stdout; logs go to stderr.
 *
 * <p>Exit status: {@value #EXIT_POWEROFF} guest powered off cleanly (or rebooted with {@code on_reboot=destroy}),
 * {@value #EXIT_ERROR} startup or restart failure, {@value #EXIT_CRASH} guest crashed, {@value #EXIT_DESTROYED}
 * destroyed by the host, {@value #EXIT_POWEROFF_FAILED} guest powered off with a non-zero code.
 */
public final class DomainRunner implements AutoCloseable {
    public static final int EXIT_POWEROFF = 0;
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_CRASH = 2;
    public static final int EXIT_DESTROYED = 3;
    public static final int EXIT_POWEROFF_FAILED = 4;
    /** The domain was saved ({@code xl save} without {@code --checkpoint}) and has ended. */
    public static final int EXIT_SAVED = 5;
    /** The domain was live-migrated away and runs on another host now. */
    public static final int EXIT_MIGRATED = 6;

    private final DomainConfig config;
    private final RunDir runDir;
    private final RunDir.NameLock lock;
    private final ConsoleServer console;
    private final ControlServer control;
    private final Domain domain;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DomainRunner(DomainConfig config, RunDir runDir, RunDir.NameLock lock, ConsoleServer console,
                         ControlServer control, Domain domain) {
        this.config = config;
        this.runDir = runDir;
        this.lock = lock;
        this.console = console;
        this.control = control;
        this.domain = domain;
    }

    /**
     * Claims the domain's name, binds its sockets, builds the machine and starts it (unless {@code paused}).
     *
     * @throws DomainException {@code exists} when a runner with that name is alive, {@code launch} when the machine
     *                         cannot be created; nothing is left behind in the run directory on failure
     */
    static DomainRunner start(DomainConfig config, RunDir runDir, MachineFactory factory, boolean paused) {
        String name = config.name();
        runDir.checkSocketPaths(name);
        runDir.create();
        RunDir.NameLock lock = runDir.tryLock(name).orElseThrow(() -> new DomainException(DomainException.EXISTS,
                name, "domain '" + name + "' already exists"
                + runDir.recordedPid(name).map(p -> " (runner pid " + p + ")").orElse("")));
        ConsoleServer console = null;
        ControlServer control = null;
        Domain domain = null;
        try {
            // We hold the lock, so any files for this name belong to a dead runner.
            runDir.removeRuntimeFiles(name);
            long pid = ProcessHandle.current().pid();
            Domain[] holder = new Domain[1];
            console = ConsoleServer.open(runDir.consoleSocket(name), data -> holder[0].consoleInput(data));
            domain = new Domain(config, factory, console::output, pid, Clock.systemUTC());
            holder[0] = domain;
            control = ControlServer.open(runDir.controlSocket(name), domain);
            try {
                domain.start(paused);
            } catch (RuntimeException | LinkageError e) {
                String why = e.getMessage() == null ? e.toString() : e.getMessage();
                throw new DomainException(DomainException.LAUNCH, name, "cannot create machine for domain '" + name
                        + "': " + why, e);
            }
            Files.writeString(runDir.pidFile(name), pid + "\n");
            console.start();
            control.start();
            Log.info("runner_ready", "domain", name, "pid", pid, "run_dir", runDir, "config", config.source());
            return new DomainRunner(config, runDir, lock, console, control, domain);
        } catch (IOException | RuntimeException e) {
            if (control != null) {
                control.close();
            }
            if (console != null) {
                console.close();
            }
            if (domain != null) {
                domain.close();
            }
            runDir.removeRuntimeFiles(name);
            lock.close();
            if (e instanceof DomainException de) {
                throw de;
            }
            throw new DomainException(DomainException.LAUNCH, name, "cannot start domain '" + name + "': "
                    + (e instanceof IOException io ? DomainConfig.describe(io) : e.toString()), e);
        }
    }

    Domain domain() {
        return domain;
    }

    /** Blocks until the domain has ended; returns the exit status (see the class comment). */
    int awaitExit() throws InterruptedException {
        try {
            return domain.exitCode().get();
        } catch (ExecutionException e) {
            return EXIT_ERROR;
        }
    }

    /** Like {@link #awaitExit()} with a bound; empty on timeout. */
    Optional<Integer> awaitExit(long millis) throws InterruptedException {
        try {
            return Optional.of(domain.exitCode().get(millis, TimeUnit.MILLISECONDS));
        } catch (ExecutionException e) {
            return Optional.of(EXIT_ERROR);
        } catch (TimeoutException e) {
            return Optional.empty();
        }
    }

    /** SIGTERM: destroy the domain and clean up, waiting a little for the machine to stop. */
    void terminate() {
        if (closed.get()) {
            return;
        }
        Log.info("terminate", "domain", config.name());
        domain.destroy();
        try {
            awaitExit(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /** Closes sockets (telling clients by EOF), removes runtime files and releases the name. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        control.close();
        console.close();
        domain.close();
        runDir.removeRuntimeFiles(config.name());
        lock.close();
        Log.info("runner_exit", "domain", config.name());
    }

    public static void main(String[] args) {
        PrintStream parent = System.out;
        // Nothing but the handshake line may reach the launcher's pipe; stray prints go to the log.
        System.setOut(System.err);
        if (args.length > 0 && args[0].equals(StandbyRunner.FLAG)) {
            // A runner started ahead of need; it becomes an ordinary runner on its restore command.
            System.exit(StandbyRunner.run(args, parent, System.in));
            return;
        }
        int status;
        DomainRunner runner;
        try {
            runner = startFromArgs(args);
            parent.println("ready " + ProcessHandle.current().pid());
            parent.close();
        } catch (DomainException e) {
            Log.error("startup_failed", "code", e.code(), "error", e.getMessage());
            parent.println("error " + e.code() + " " + e.getMessage().replace('\n', ' '));
            parent.close();
            System.exit(EXIT_ERROR);
            return;
        } catch (RuntimeException | Error e) {
            Log.error("startup_failed", "code", DomainException.INTERNAL, "error", e.toString());
            e.printStackTrace();
            parent.println("error " + DomainException.INTERNAL + " domain runner failed to start: "
                    + e.toString().replace('\n', ' '));
            parent.close();
            System.exit(EXIT_ERROR);
            return;
        }
        warmMigrationSender(java.util.Arrays.asList(args).contains("--incoming") ? 0 : SENDER_WARM_DELAY_MILLIS);
        Runtime.getRuntime().addShutdownHook(new Thread(runner::terminate, "sigterm"));
        try {
            status = runner.awaitExit();
        } catch (InterruptedException e) {
            status = EXIT_ERROR;
        }
        runner.close();
        System.exit(status);
    }

    /** {@link #warmMigrationSender}: delay for a booted or restored domain (never during its boot), budget. */
    private static final long SENDER_WARM_DELAY_MILLIS = 10_000;
    private static final long SENDER_WARM_NANOS = 300_000_000L;

    /**
     * Warms the migration sender of this runner once ({@code MigrationSource.warmSendPath}, at most
     * {@link #SENDER_WARM_NANOS} after its first pass) on a daemon thread, {@code delayMillis} after the domain
     * started: its first migration's full pass would otherwise run its page scan and copies interpreted. A
     * migrated-in runner (the next migration's likely source) warms at once, its guest already runs compiled; a
     * booted one waits so it never competes with the boot. Not at nice 19: in the runner's own scheduler group the
     * busy guest's vCPU thread then left it one pass in 2-6 s (too late for the next migration, too few for the JIT).
     */
    private static void warmMigrationSender(long delayMillis) {
        Thread.ofPlatform().daemon().name("warm-migration-sender").start(() -> {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                return;
            }
            long start = System.nanoTime();
            int passes = dev.domus.xen.migration.MigrationSource.warmSendPath(SENDER_WARM_NANOS);
            Log.info("migration_sender_warmed", "passes", passes, "warm_ms", (System.nanoTime() - start) / 1_000_000);
        });
    }

    private static DomainRunner startFromArgs(String[] args) {
        Path cfg = null;
        Path restore = null;
        String incoming = null;
        Path diskDir = null;
        Path runDir = null;
        boolean paused = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config" -> cfg = Path.of(value(args, ++i, "--config"));
                case "--restore" -> restore = Path.of(value(args, ++i, "--restore"));
                case "--incoming" -> incoming = value(args, ++i, "--incoming");
                case "--disk-dir" -> diskDir = Path.of(value(args, ++i, "--disk-dir")).toAbsolutePath();
                case "--run-dir" -> runDir = Path.of(value(args, ++i, "--run-dir"));
                case "--paused" -> paused = true;
                default -> throw new DomainException(DomainException.BAD_ARGUMENT, "unknown argument '" + args[i]
                        + "'; usage: DomainRunner (--config <cfg> | --restore <snapshot> [--config <cfg>] | --incoming"
                        + " <host:port> [--disk-dir <dir> | --config <cfg>]) [--paused] [--run-dir <dir>]");
            }
        }
        RunDir dir = runDir == null ? RunDir.fromEnvironment() : RunDir.at(runDir);
        if (incoming != null) {
            if (diskDir != null && !Files.isDirectory(diskDir)) {
                throw new DomainException(DomainException.BAD_ARGUMENT, "--disk-dir " + diskDir
                        + " is not a directory");
            }
            if (cfg != null && diskDir != null) {
                throw new DomainException(DomainException.BAD_ARGUMENT, "--incoming with --config builds the domain"
                        + " ahead on its own disks; it cannot take mirrored ones (--disk-dir)");
            }
            if (cfg != null) {
                return receiveMigration(incoming, dir, Optional.empty(), Optional.of(DomainConfig.load(cfg)));
            }
            Optional<dev.domus.xen.migration.MigrationTarget.DiskTarget> disksTo = diskDir == null ? Optional.empty()
                    : Optional.of(new dev.domus.xen.migration.MigrationTarget.DiskTarget(diskDir,
                            DomainLauncher.incomingDiskJournal(dir, incoming)));
            return receiveMigration(incoming, dir, disksTo);
        }
        if (restore != null) {
            SnapshotImage image = readSnapshot(restore);
            DomainConfig config = DomainRecord.decode(image.state().domain());
            if (cfg != null) {
                // --restore with --config: the saved guest under this configuration's backends (see RestoreConfig)
                config = RestoreConfig.check(config, DomainConfig.load(cfg));
            }
            return start(config, dir, restoringFactory(image), paused);
        }
        if (cfg == null) {
            throw new DomainException(DomainException.BAD_ARGUMENT,
                    "usage: DomainRunner (--config <cfg> | --restore <snapshot>) [--paused] [--run-dir <dir>]");
        }
        DomainConfig config = DomainConfig.load(cfg);
        return start(config, dir, Machines::create, paused);
    }

    /**
     * {@code --incoming host:port}: waits for one live migration, builds the domain from it paused, acknowledges
     * and only then lets the guest run. A broken or refused stream leaves nothing behind.
     */
    static DomainRunner receiveMigration(String listen, RunDir dir) {
        return receiveMigration(listen, dir, Optional.empty());
    }

    /**
     * Like {@link #receiveMigration(String, RunDir)}; disks the source mirrors are written into {@code diskDir}. The
     * domain is built on those copies as soon as the source announced them (they exist at full size, sparse), while
     * they fill: its vCPUs stay parked until COMMIT and the device state is only accepted after the copy ended, so
     * the guest never runs on a half-copied disk and the build stays out of the downtime.
     */
    static DomainRunner receiveMigration(String listen, RunDir dir,
                                         Optional<dev.domus.xen.migration.MigrationTarget.DiskTarget> diskDir) {
        return receiveMigration(listen, dir, diskDir, Optional.empty());
    }

    /**
     * Like {@link #receiveMigration(String, RunDir, Optional)}; with {@code expected} ({@code --incoming ..
     * --config <cfg>}) the domain is built while listening, as a toolstack creates it on the target before the
     * source connects: name lock, sockets, devices, machine on pre-allocated RAM, vCPU threads parked; then the
     * receive path is warmed on loopback and {@code event=migration_prebuilt} is logged. The source's HELLO must
     * announce that same domain ({@link PrebuiltConfig}: everything but the file it came from), else it is refused
     * and the prebuilt domain is destroyed. Without mirrored disks only.
     */
    static DomainRunner receiveMigration(String listen, RunDir dir,
                                         Optional<dev.domus.xen.migration.MigrationTarget.DiskTarget> diskDir,
                                         Optional<DomainConfig> expected) {
        java.net.InetSocketAddress addr = parseHostPort(listen);
        java.net.Socket socket;
        long acceptedAt;
        DomainRunner prebuilt = null;
        Optional<dev.domus.xen.migration.MigrationTarget.Prepared> prepared = Optional.empty();
        try (java.net.ServerSocket server = new java.net.ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(addr);
            Log.info("migration_listening", "listen", addr, "prebuild", expected.isPresent());
            AtomicBoolean connected = new AtomicBoolean();
            if (expected.isPresent()) {
                // Connections that come meanwhile wait in the accept queue.
                long start = System.nanoTime();
                dev.domus.xen.migration.MigrationTarget.warmHandshake();
                prepared = Optional.of(prepare(expected.get()));
                try {
                    prebuilt = start(expected.get(), dir, preparedFactory(prepared.get()), true);
                } catch (RuntimeException e) {
                    prepared.get().ram().close(); // the machine never took it
                    throw e;
                }
                prebuilt.domain().awaitIncomingState();
                prebuilt.domain().prestart();
                long builtAt = System.nanoTime();
                // The HELLO answer's checks, cold, took 50-90 ms (record decode, comparison): run them on this
                // domain's own record and configuration first.
                warmPrebuiltCheck(expected.get(), prepared.get().config());
                // Warm the receive path to its end (the source is not expected before this line is logged).
                dev.domus.xen.migration.MigrationTarget.warmUp(connected::get);
                Log.info("migration_prebuilt", "listen", addr, "domain", expected.get().name(),
                        "build_us", (builtAt - start) / 1000, "warm_us", (System.nanoTime() - builtAt) / 1000);
            } else {
                // While waiting for the source, load the classes the machine and the runner will need, so neither
                // the handshake nor building them competes with class loading in this fresh JVM (started after
                // accept, it held up the handshake by ~1 s on a loaded host).
                Thread.ofPlatform().daemon().name("preload-classes").start(() -> {
                    preloadClasses(connected::get);
                    // Then the receive path itself, on loopback, until the source is here (see MigrationTarget).
                    dev.domus.xen.migration.MigrationTarget.warmUp(connected::get);
                });
            }
            socket = server.accept();
            acceptedAt = System.nanoTime();
            connected.set(true);
        } catch (IOException e) {
            if (prebuilt != null) {
                prebuilt.terminate();
            }
            throw new DomainException(DomainException.IO, "cannot listen for a migration on " + listen + ": "
                    + e.getMessage());
        } catch (RuntimeException e) {
            if (prebuilt != null) {
                prebuilt.terminate();
            }
            throw e;
        }
        if (prebuilt != null) {
            return receivePrebuilt(socket, acceptedAt, expected.get(), prebuilt, prepared.get());
        }
        // The domain (sockets, devices, machine) is built as soon as the handshake is accepted, while RAM streams
        // in; it then only waits for the device state, which keeps the build out of the guest's downtime.
        java.util.concurrent.CompletableFuture<DomainRunner> built = new java.util.concurrent.CompletableFuture<>();
        AtomicBoolean handshakeAccepted = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong buildNanos = new java.util.concurrent.atomic.AtomicLong();
        dev.domus.xen.migration.MigrationTarget.Incoming in;
        try {
            in = dev.domus.xen.migration.MigrationTarget.receive(socket, (cfg, record) -> {
                if (dir.isHeld(cfg.name())) {
                    return "domain '" + cfg.name() + "' already runs on the target";
                }
                return sharedDisksMissing(record);
            }, 60_000, incoming -> {
                incoming.building(built); // PREPARE waits for the build: the pause then never does
                Thread.ofPlatform().daemon().name("build-migrated").start(() -> {
                    handshakeAccepted.set(true);
                    long buildStart = System.nanoTime();
                    try {
                        DomainConfig config = withDisks(DomainRecord.decode(incoming.domain()),
                                incoming.mirroredDisks());
                        deferSharedDiskLocks(config, incoming.mirroredDisks());
                        DomainRunner r = start(config, dir, preparingFactory(incoming), true);
                        try {
                            r.domain().awaitIncomingState();
                            r.domain().prestart();
                        } catch (RuntimeException e) {
                            r.terminate();
                            throw e;
                        }
                        buildNanos.set(System.nanoTime() - buildStart);
                        built.complete(r);
                        rehearseRestore(r, incoming);
                    } catch (Throwable t) {
                        built.completeExceptionally(t);
                    }
                });
            }, diskDir);
        } catch (dev.domus.xen.migration.MigrationException e) {
            if (handshakeAccepted.get()) {
                awaitQuietly(built); // let the builder clean up its sockets and name lock first
            }
            throw new DomainException(DomainException.LAUNCH, e.getMessage());
        }
        return completeMigration(in, built, acceptedAt, buildNanos::get);
    }

    /** {@link #receiveMigration}, the domain built before the source connected ({@code prepared}'s machine). */
    private static DomainRunner receivePrebuilt(java.net.Socket socket, long acceptedAt, DomainConfig expected,
                                                DomainRunner prebuilt,
                                                dev.domus.xen.migration.MigrationTarget.Prepared prepared) {
        java.util.concurrent.CompletableFuture<DomainRunner> built =
                java.util.concurrent.CompletableFuture.completedFuture(prebuilt);
        dev.domus.xen.migration.MigrationTarget.Incoming in;
        try {
            in = dev.domus.xen.migration.MigrationTarget.receive(socket, (cfg, record) -> prebuiltRefusal(expected,
                    record), 60_000, incoming -> {
                incoming.building(built);
                Thread.ofPlatform().daemon().name("rehearse-restore").start(() -> {
                    try {
                        rehearseRestore(prebuilt, incoming);
                    } catch (RuntimeException e) {
                        // a rehearsal only warms; the real restore reports its own failure
                    }
                });
            }, Optional.empty(), Optional.of(prepared));
        } catch (dev.domus.xen.migration.MigrationException e) {
            prebuilt.terminate(); // closes the machine and with it the prepared RAM
            throw new DomainException(DomainException.LAUNCH, e.getMessage());
        }
        return completeMigration(in, built, acceptedAt, () -> 0L); // built before: see migration_prebuilt
    }

    /** Why the source's domain {@code record} does not fit the domain built ahead, null when it does. */
    private static String prebuiltRefusal(DomainConfig expected, byte[] record) {
        try {
            return PrebuiltConfig.refusal(expected, DomainRecord.decode(record));
        } catch (RuntimeException e) {
            return "bad domain record: " + e.getMessage();
        }
    }

    /** Runs what the HELLO answer checks for a prebuilt domain on its own record and configuration, a few times. */
    private static void warmPrebuiltCheck(DomainConfig expected, dev.domus.xen.api.MachineConfig config) {
        try {
            byte[] record = DomainRecord.encode(expected);
            byte[] cfg = Snapshots.encodeConfig(config);
            for (int i = 0; i < 20; i++) {
                if (!Snapshots.decodeConfig(cfg).equals(config) || prebuiltRefusal(expected, record) != null) {
                    Log.warn("migration_prebuilt_check", "domain", expected.name(), "error",
                            "the domain's own record does not fit it");
                    return;
                }
            }
        } catch (RuntimeException | LinkageError e) {
            // only a lost speed-up
        }
    }

    /** RAM for the domain built ahead (its machine takes it; the receiver writes the pages into it). */
    private static dev.domus.xen.migration.MigrationTarget.Prepared prepare(DomainConfig expected) {
        deferSharedDiskLocks(expected, java.util.Map.of());
        dev.domus.xen.api.MachineConfig mc = expected.toMachineConfig();
        return new dev.domus.xen.migration.MigrationTarget.Prepared(mc,
                dev.domus.xen.migration.MigrationTarget.Prepared.allocateRam(mc));
    }

    /** The first machine runs on the prepared RAM, its state applied later; a reboot boots afresh. */
    private static MachineFactory preparedFactory(dev.domus.xen.migration.MigrationTarget.Prepared prepared) {
        AtomicBoolean taken = new AtomicBoolean();
        return preparingFactory(new dev.domus.xen.snapshot.MachineImage() {
            @Override
            public dev.domus.xen.snapshot.MachineState state() {
                throw new SnapshotException("the prebuilt machine's state comes with the migration");
            }

            @Override
            public dev.domus.xen.memory.GuestMemory takeMemory(long base, long size) {
                if (base != prepared.ram().base() || size != prepared.ram().size()
                        || !taken.compareAndSet(false, true)) {
                    throw new SnapshotException("the prepared RAM does not fit (or was taken)");
                }
                return prepared.ram();
            }
        });
    }

    /**
     * The received migration's way to a running guest: waits for the build, applies the state, waits for COMMIT,
     * resumes; on any failure before COMMIT the domain is destroyed and nothing runs.
     */
    private static DomainRunner completeMigration(dev.domus.xen.migration.MigrationTarget.Incoming in,
                                                  java.util.concurrent.Future<DomainRunner> built, long acceptedAt,
                                                  java.util.function.LongSupplier buildNanos) {
        // The receiving thread may run at real-time priority since the pause was announced (MigrationTarget):
        // lowered on every way out of here.
        try {
            long receivedAt = System.nanoTime();
            DomainRunner runner;
            try {
                runner = built.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException | InterruptedException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                in.refuse(String.valueOf(cause.getMessage()));
                in.close();
                in.discardDisks();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new DomainException(DomainException.LAUNCH, "cannot build the migrated domain: " + cause);
            }
            long builtAt = System.nanoTime();
            try {
                runner.domain().restoreMachineState(in.state());
            } catch (RuntimeException e) {
                in.refuse("cannot apply the device state: " + e.getMessage());
                in.close();
                runner.terminate();
                in.discardDisks();
                throw new DomainException(DomainException.SNAPSHOT, "cannot apply the migrated device state: "
                        + e.getMessage());
            }
            long restoredAt = System.nanoTime();
            try {
                in.awaitCommit();
            } catch (IOException | RuntimeException e) {
                // No COMMIT read: the source may resume its copy at any moment, so this one must never run.
                Log.warn("migration_commit_failed", "domain", runner.config.name(), "error", e.getMessage());
                in.close();
                runner.terminate();
                in.discardDisks();
                throw new DomainException(DomainException.IO, "migration hand-over failed before COMMIT: "
                        + e.getMessage());
            }
            long ackAt = System.nanoTime();
            try {
                runner.domain().takeDiskLocks();
            } catch (DomainException e) {
                // COMMIT was read but the guest cannot run here: say so (the source resumes its copy) and discard.
                Log.warn("migration_disk_lock_failed", "domain", runner.config.name(), "error", e.getMessage());
                runner.terminate();
                in.refuse(e.getMessage());
                in.close();
                in.discardDisks();
                throw e;
            }
            runner.domain().unpause();
            long resumedAt = runner.domain().resumedAtNanos();
            in.disksCommitted();
            boolean told = in.done();
            in.close();
            // nanoTime is CLOCK_MONOTONIC on Linux: resumed_ns compares with the source's stopped_at_ns on one host.
            long stateAt = in.stateReceivedAtNanos();
            Log.info("migration_resumed", "domain", runner.config.name(), "state_at_ns", stateAt, "resumed_ns",
                    resumedAt, "decode_us", in.stateDecodeNanos() / 1000,
                    "final_us", (in.finalReceivedAtNanos() - stateAt) / 1000,
                    "receive_us", (receivedAt - stateAt) / 1000, "gc_us", in.collectNanos() / 1000,
                    "wait_built_us", (builtAt - receivedAt) / 1000, "restore_us", (restoredAt - builtAt) / 1000,
                    "commit_us", (ackAt - restoredAt) / 1000,
                    "resume_us", (resumedAt - ackAt) / 1000, "done_sent", told,
                    "accept_hello_us", (in.helloReceivedAtNanos() - acceptedAt) / 1000,
                    "hello_answer_us", (in.helloAnsweredAtNanos() - in.helloReceivedAtNanos()) / 1000,
                    "build_us", buildNanos.getAsLong() / 1000, "prepare_build_wait_us", in.buildWaitNanos() / 1000);
            Log.info("migration_received", "domain", runner.config.name(), "pages", in.pagesReceived(), "bytes",
                    in.bytesReceived());
            return runner;
        } finally {
            in.lowerPriority();
        }
    }

    /** {@link #rehearseRestore}: rehearsals at most, and their time budget. */
    private static final int REHEARSALS = 200;
    private static final long REHEARSAL_NANOS = 30_000_000L;

    /**
     * On the built, parked machine: applies the source's state preview a number of times
     * ({@code Domain.rehearseRestore}) until the source announces its pause, so the one real restore inside the
     * downtime runs resolved (and, given enough rounds, compiled) code instead of a fresh JVM's first, interpreted
     * pass (1.1-3.3 ms measured). Stops at once when the pause is announced; never after the real state applied.
     */
    private static void rehearseRestore(DomainRunner r, dev.domus.xen.migration.MigrationTarget.Incoming in) {
        Optional<dev.domus.xen.snapshot.MachineState> preview = in.awaitPreview(30_000);
        if (preview.isEmpty()) {
            return;
        }
        // One pass at once (class initialisation, call site resolution), the repetitions for the JIT only once the
        // full RAM pass is over (they would take CPU from it; the dirty rounds leave this host mostly idle).
        int n = r.domain().rehearseRestore(preview.get()) ? 1 : 0;
        in.awaitFullPass(60_000);
        long until = System.nanoTime() + REHEARSAL_NANOS;
        while (n > 0 && n < REHEARSALS && !in.pauseAnnounced() && System.nanoTime() < until
                && r.domain().rehearseRestore(preview.get())) {
            n++;
        }
        Log.info("migration_restore_rehearsed", "domain", r.config.name(), "rehearsals", n);
    }

    /**
     * Why the domain's {@code shared} disks cannot be opened in place here (null when they can): each must exist
     * at the same path on this host, as a readable (and for rw, writable) regular file.
     */
    static String sharedDisksMissing(byte[] record) {
        DomainConfig c;
        try {
            c = DomainRecord.decode(record);
        } catch (RuntimeException e) {
            return "bad domain record: " + e.getMessage();
        }
        for (String entry : c.disks()) {
            DeviceSpecs.DiskEntry e = DeviceSpecs.DiskEntry.parse(entry);
            Path p = e.image();
            if (e.shared() && (!Files.isRegularFile(p) || !Files.isReadable(p)
                    || (!e.readOnly() && !Files.isWritable(p)))) {
                return "shared disk " + e.target() + ": " + p + " is not a " + (e.readOnly() ? "readable" : "writable")
                        + " file on this host (shared disks are opened in place, at the same path)";
            }
        }
        return null;
    }

    /**
     * Shared read-write disks of an incoming migration are opened without their lock: the source holds it until it
     * pauses; the lock is taken after COMMIT ({@link Domain#takeDiskLocks}).
     */
    static void deferSharedDiskLocks(DomainConfig c, java.util.Map<String, Path> mirrored) {
        for (String entry : c.disks()) {
            DeviceSpecs.DiskEntry e = DeviceSpecs.DiskEntry.parse(entry);
            if (!e.readOnly() && !mirrored.containsKey(e.target())) {
                dev.domus.xen.devices.virtio.blk.BlkDevice.deferLock(e.image());
            }
        }
    }

    /** The configuration with each mirrored disk's path replaced by its copy on this host. */
    static DomainConfig withDisks(DomainConfig c, java.util.Map<String, Path> mirrored) {
        if (mirrored.isEmpty()) {
            return c;
        }
        java.util.List<String> disks = new java.util.ArrayList<>();
        for (String entry : c.disks()) {
            DeviceSpecs.DiskEntry e = DeviceSpecs.DiskEntry.parse(entry);
            Path copy = mirrored.get(e.target());
            disks.add(copy == null ? entry
                    : new DeviceSpecs.DiskEntry(copy, e.readOnly(), e.target(), false).normalised());
        }
        return new DomainConfig(c.source(), c.name(), c.memoryMiB(), c.vcpus(), c.kernel(), c.ramdisk(), c.cmdline(),
                c.cpuCapPercent(), c.onPoweroff(), c.onReboot(), c.onCrash(), disks, c.vifs(), c.cpuEngine());
    }

    private static void awaitQuietly(java.util.concurrent.CompletableFuture<?> f) {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // the builder failed or hangs; its own cleanup ran or the process exit will do it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs what the handshake needs once (the mmap downcall behind guest RAM, the snapshot codec's statics, the
     * HELLO answer's priority calls and config codec), then loads (without initialising) every xen-core class from
     * this runner's jar until the source connects ({@code connected}); best effort. The jar scan can outlast the
     * wait for the source on a loaded host: before, the HELLO answer's warm-up came after it and the answer ran
     * cold (0.2-0.8 s, with the source's pages waiting behind it); after the connect the build loads what it needs.
     */
    private static void preloadClasses(java.util.function.BooleanSupplier connected) {
        try (dev.domus.xen.memory.GuestMemory m = dev.domus.xen.memory.GuestMemory.allocate(0x8000_0000L, 1 << 20)) {
            m.storeByte(0, (byte) 1);
            Class.forName("dev.domus.xen.snapshot.Snapshots", true, DomainRunner.class.getClassLoader());
            Class.forName("dev.domus.xen.migration.MigrationTarget", true, DomainRunner.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            // only a lost speed-up
        }
        dev.domus.xen.migration.MigrationTarget.warmHandshake();
        try {
            // The handshake's check decodes the source's domain record (10-20 ms cold under load): run it once.
            DomainConfig c = new DomainConfig(Path.of("/warm-up.cfg"), "warm-up", 16, 1, Path.of("/warm-up"),
                    Optional.empty(), "", 0, LifecycleAction.DESTROY, LifecycleAction.DESTROY, LifecycleAction.DESTROY,
                    java.util.List.of(), java.util.List.of(), Optional.empty());
            sharedDisksMissing(DomainRecord.encode(c));
        } catch (RuntimeException | LinkageError e) {
            // only a lost speed-up
        }
        try {
            var src = DomainRunner.class.getProtectionDomain().getCodeSource();
            if (src == null || !src.getLocation().getPath().endsWith(".jar")) {
                return;
            }
            ClassLoader loader = DomainRunner.class.getClassLoader();
            long start = System.nanoTime();
            int loaded = 0;
            try (java.util.jar.JarFile jar = new java.util.jar.JarFile(Path.of(src.getLocation().toURI()).toFile())) {
                var entries = jar.entries();
                while (entries.hasMoreElements() && !connected.getAsBoolean()) {
                    String n = entries.nextElement().getName();
                    if (n.startsWith("dev/domus/xen/") && n.endsWith(".class") && !n.contains("module-info")) {
                        try {
                            Class.forName(n.substring(0, n.length() - 6).replace('/', '.'), false, loader);
                            loaded++;
                        } catch (ClassNotFoundException | LinkageError e) {
                            // only a lost speed-up
                        }
                    }
                }
                Log.info("runner_preloaded", "classes", loaded, "complete", !entries.hasMoreElements(),
                        "preload_ms", (System.nanoTime() - start) / 1_000_000);
            }
        } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
            // only a lost speed-up
        }
    }

    static java.net.InetSocketAddress parseHostPort(String s) {
        int c = s.lastIndexOf(':');
        if (c <= 0 || c == s.length() - 1) {
            throw new DomainException(DomainException.BAD_ARGUMENT, "expected host:port, got '" + s + "'");
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(c + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new DomainException(DomainException.BAD_ARGUMENT, "port must be 1..65535 in '" + s + "'");
        }
        return new java.net.InetSocketAddress(s.substring(0, c), port);
    }

    /** Reads and fully validates a snapshot; any problem is one {@code snapshot} error and nothing is started. */
    static SnapshotImage readSnapshot(Path file) {
        try {
            return Snapshots.read(file);
        } catch (SnapshotException e) {
            throw new DomainException(DomainException.SNAPSHOT, e.getMessage());
        }
    }

    /** Restores the snapshot for the first machine; a later restart (reboot) boots the configuration afresh. */
    static MachineFactory restoringFactory(dev.domus.xen.snapshot.MachineImage image) {
        AtomicBoolean used = new AtomicBoolean();
        return (cfg, listener) -> {
            if (used.compareAndSet(false, true)) {
                try {
                    return Machines.restore(cfg, listener, image);
                } catch (SnapshotException e) {
                    throw new DomainException(DomainException.SNAPSHOT, e.getMessage());
                }
            }
            return Machines.create(cfg, listener);
        };
    }

    /**
     * For an incoming migration: the first machine takes the migrated RAM and gets its state later
     * ({@link Domain#restoreMachineState}); a later restart (reboot) boots the configuration afresh.
     */
    static MachineFactory preparingFactory(dev.domus.xen.snapshot.MachineImage image) {
        AtomicBoolean used = new AtomicBoolean();
        return (cfg, listener) -> used.compareAndSet(false, true) ? Machines.prepare(cfg, listener, image)
                : Machines.create(cfg, listener);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new DomainException(DomainException.BAD_ARGUMENT, flag + " needs a value");
        }
        return args[i];
    }
}
