// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineInfo;
import dev.domus.xen.api.MachineListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One domain: the current machine plus the policy around it. Commands arrive on connection threads; machine exits
 * are handed to a single domain thread, so every state transition happens under one lock and each is announced
 * as a {@link DomainEvent} in order.
 */
final class Domain {
    /** More restarts than this within {@link #RESTART_WINDOW} is a crash loop: the domain is destroyed. */
    static final int MAX_RESTARTS_IN_WINDOW = 10;
    static final Duration RESTART_WINDOW = Duration.ofMinutes(1);

    private static final MachineInfo NO_INFO = new MachineInfo(0, 0, 0, 0, 0);

    private final DomainConfig config;
    private final MachineFactory factory;
    private final ConsoleSink console;
    private final long pid;
    private final Clock clock;
    private final ScheduledExecutorService thread;
    private final List<Consumer<DomainEvent>> listeners = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
    private final ArrayDeque<Instant> restartTimes = new ArrayDeque<>();
    private final Object lock = new Object();

    private volatile Machine machine;
    private int generation;
    private boolean started;
    private DomainState state = DomainState.PAUSED;
    private MachineInfo lastInfo = NO_INFO;
    private int restarts;
    private ScheduledFuture<?> shutdownTimer;

    /** Receives guest console output; called on machine threads, must not block. */
    @FunctionalInterface
    interface ConsoleSink {
        void output(byte[] data, int off, int len);
    }

    Domain(DomainConfig config, MachineFactory factory, ConsoleSink console, long pid, Clock clock) {
        this.config = config;
        this.factory = factory;
        this.console = console;
        this.pid = pid;
        this.clock = clock;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "domain-" + config.name());
            t.setDaemon(true);
            return t;
        });
    }

    String name() {
        return config.name();
    }

    DomainConfig config() {
        return config;
    }

    void addListener(Consumer<DomainEvent> l) {
        listeners.add(l);
    }

    /** Builds the first machine and starts it unless {@code paused}. Factory failures propagate. */
    void start(boolean paused) {
        synchronized (lock) {
            machine = newMachine();
            if (paused) {
                state = DomainState.PAUSED;
            } else {
                machine.start();
                started = true;
                state = DomainState.RUNNING;
            }
        }
        Log.info("domain_started", "domain", name(), "state", state.wireName(), "memory_mib", config.memoryMiB(),
                "vcpus", config.vcpus(), "kernel", config.kernel());
    }

    /** Completes with the runner's exit status once the domain has ended. */
    CompletableFuture<Integer> exitCode() {
        return exitCode;
    }

    DomainState state() {
        synchronized (lock) {
            return state;
        }
    }

    DomainInfo info() {
        synchronized (lock) {
            MachineInfo mi = state.isAlive() ? safeInfo() : lastInfo;
            return new DomainInfo(name(), state, pid, config.vcpus(), config.memoryMiB(), mi.uptimeMillis(),
                    mi.cpuTimeMillis(), mi.instructions(), config.source().toString(), restarts);
        }
    }

    void pause() {
        synchronized (lock) {
            requireAlive("pause");
            if (state == DomainState.PAUSED) {
                return;
            }
            machine.pause();
            setState(DomainState.PAUSED);
        }
    }

    void unpause() {
        synchronized (lock) {
            requireAlive("unpause");
            if (state == DomainState.RUNNING) {
                return;
            }
            if (awaitingState && !stateApplied) {
                throw new DomainException(DomainException.BAD_STATE, name(), "domain '" + name()
                        + "' waits for an incoming migration; it runs once that is complete");
            }
            if (started) {
                machine.resume();
            } else {
                machine.start();
                started = true;
            }
            resumedAtNanos = System.nanoTime();
            setState(DomainState.RUNNING);
        }
    }

    /**
     * Incoming migration: starts the vCPU threads of the paused domain parked, so {@link #unpause()} only wakes
     * them. No-op once started.
     */
    void prestart() {
        synchronized (lock) {
            requireAlive("prestart");
            if (!started && state == DomainState.PAUSED) {
                machine.startPaused();
                started = true;
            }
        }
    }

    private volatile long resumedAtNanos;

    /** {@link System#nanoTime()} right after the vCPUs were last released by {@link #unpause()} (before logging). */
    long resumedAtNanos() {
        return resumedAtNanos;
    }

    /**
     * Incoming migration, after COMMIT: takes the image locks of the disks opened without them (shared read-write
     * disks the source handed over at its pause), before any vCPU runs.
     *
     * @throws DomainException when a lock is still held elsewhere (the guest must not run here then)
     */
    void takeDiskLocks() {
        for (dev.domus.xen.devices.virtio.blk.BlkDevice d : machine.disks()) {
            if (!d.locked()) {
                try {
                    d.acquireLock(10_000);
                } catch (java.io.IOException e) {
                    throw new DomainException(DomainException.IO, name(), "cannot take over shared disk "
                            + d.target() + ": " + e.getMessage());
                }
            }
        }
    }

    /** Incoming migration: applies the final vCPU and device state to the paused, prepared machine. */
    void restoreMachineState(dev.domus.xen.snapshot.MachineState s) {
        synchronized (lock) {
            requireAlive("restore");
            if (state != DomainState.PAUSED) {
                throw new DomainException(DomainException.BAD_STATE, name(), "the migrated domain must be paused to"
                        + " take its state, it is " + state.wireName());
            }
            stateApplied = true;
            machine.restoreState(s);
        }
    }

    /** Set by {@link #awaitIncomingState}: {@link #unpause} is refused until the state was applied. */
    private boolean awaitingState;

    /**
     * Incoming migration: this paused machine's RAM and state are still to come, so it must not run before
     * {@link #restoreMachineState} (an {@code xl unpause} meanwhile is refused).
     */
    void awaitIncomingState() {
        synchronized (lock) {
            awaitingState = true;
        }
    }

    /** Set by {@link #restoreMachineState}: from then on no rehearsal may touch the machine. */
    private boolean stateApplied;

    /**
     * Incoming migration, before the final state: runs the restore code on the state preview
     * ({@link Machine#rehearseRestore}) so the one restore inside the downtime is not the first. False (and
     * nothing done) once the real state was applied or the domain is not paused; a failure is only a lost warm-up.
     */
    boolean rehearseRestore(dev.domus.xen.snapshot.MachineState preview) {
        synchronized (lock) {
            if (stateApplied || state != DomainState.PAUSED) {
                return false;
            }
            try {
                machine.rehearseRestore(preview);
            } catch (RuntimeException e) {
                return false;
            }
            return true;
        }
    }

    /** Outcome of a save: file size and how long the guest was paused for it. */
    record SaveResult(long bytes, long pausedMicros) {
        long pausedMillis() {
            return pausedMicros / 1000;
        }
    }

    /**
     * Writes a snapshot to {@code file}. Without {@code checkpoint} the domain then ends (runner status
     * {@link DomainRunner#EXIT_SAVED}); with it the guest continues. A failed save leaves the domain as it was.
     */
    SaveResult save(java.nio.file.Path file, boolean checkpoint) {
        SaveResult result;
        synchronized (lock) {
            requireAlive("save");
            if (migrating.get()) {
                throw new DomainException(DomainException.BAD_STATE, name(), "domain '" + name()
                        + "' is being migrated");
            }
            if (state != DomainState.RUNNING && state != DomainState.PAUSED) {
                throw new DomainException(DomainException.BAD_STATE, name(), "cannot save domain '" + name()
                        + "' in state " + state.wireName());
            }
            boolean wasRunning = state == DomainState.RUNNING;
            if (checkpoint && wasRunning) {
                // Pre-copy into the file while the guest runs: the pause holds only the last dirty pages.
                dev.domus.xen.snapshot.Snapshots.Checkpointed c;
                try {
                    c = dev.domus.xen.snapshot.Snapshots.checkpoint(file, machine, DomainRecord.encode(config));
                } catch (RuntimeException e) {
                    Log.warn("save_failed", "domain", name(), "file", file, "error", e.getMessage());
                    throw new DomainException(DomainException.IO, name(), "cannot save domain '" + name() + "': "
                            + e.getMessage(), e);
                }
                Log.info("checkpoint", "domain", name(), "file", file, "bytes", c.bytes(), "paused_us",
                        c.pausedMicros(), "rounds", c.rounds(), "final_pages", c.finalPages());
                return new SaveResult(c.bytes(), c.pausedMicros());
            }
            long t0 = System.nanoTime();
            if (wasRunning) {
                machine.pause();
            }
            long bytes;
            try {
                bytes = machine.save(file, DomainRecord.encode(config));
            } catch (RuntimeException e) {
                if (wasRunning) {
                    machine.resume();
                }
                Log.warn("save_failed", "domain", name(), "file", file, "error", e.getMessage());
                throw new DomainException(DomainException.IO, name(), "cannot save domain '" + name() + "': "
                        + e.getMessage(), e);
            }
            if (checkpoint) {
                if (wasRunning) {
                    machine.resume();
                }
                result = new SaveResult(bytes, (System.nanoTime() - t0) / 1_000);
                Log.info("checkpoint", "domain", name(), "file", file, "bytes", bytes, "paused_us",
                        result.pausedMicros());
                return result;
            }
            result = new SaveResult(bytes, (System.nanoTime() - t0) / 1_000);
            Log.info("saved", "domain", name(), "file", file, "bytes", bytes);
            cancelShutdownTimer();
            lastInfo = safeInfo();
            emit(new DomainEvent.Shutdown(now(), "saved", 0));
            setState(DomainState.DYING);
            try {
                machine.destroy();
            } catch (RuntimeException e) {
                Log.warn("machine_destroy_failed", "domain", name(), "error", e.toString());
            }
        }
        thread.execute(() -> finish(DomainRunner.EXIT_SAVED));
        return result;
    }

    private final java.util.concurrent.atomic.AtomicBoolean migrating = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile java.util.concurrent.atomic.AtomicBoolean migrationCancel;

    /**
     * Starts a live migration to {@code target} on its own thread; progress and the outcome arrive as
     * {@link DomainEvent.Migration} events. On success this domain ends with {@link DomainRunner#EXIT_MIGRATED}.
     */
    void migrate(java.net.InetSocketAddress target, dev.domus.xen.migration.MigrationSource.Options options) {
        migrate(target, options, java.util.Set.of());
    }

    /** Like {@link #migrate(java.net.InetSocketAddress, dev.domus.xen.migration.MigrationSource.Options)}, mirroring
     * the named disks ({@code vda}.. or {@code all}); unknown names fail with {@code bad_argument}. */
    void migrate(java.net.InetSocketAddress target, dev.domus.xen.migration.MigrationSource.Options options,
                 java.util.Set<String> mirrorDisks) {
        synchronized (lock) {
            // "all" means every disk that is not shared; a shared disk is never copied, so naming one is an error.
            java.util.Set<String> shared = config.sharedDisks();
            java.util.Set<String> expanded = new java.util.TreeSet<>();
            for (String d : mirrorDisks) {
                if (d.equals("all")) {
                    for (String entry : config.disks()) {
                        DeviceSpecs.DiskEntry e = DeviceSpecs.DiskEntry.parse(entry);
                        if (!e.shared()) {
                            expanded.add(e.target());
                        }
                    }
                } else if (config.disks().stream().noneMatch(e -> DeviceSpecs.DiskEntry.parse(e).target().equals(d))) {
                    throw new DomainException(DomainException.BAD_ARGUMENT, name(), "domain '" + name()
                            + "' has no disk " + d + " to mirror");
                } else if (shared.contains(d)) {
                    throw new DomainException(DomainException.BAD_ARGUMENT, name(), "disk " + d + " of '" + name()
                            + "' is shared (same path on every host): it is opened in place, never mirrored");
                } else {
                    expanded.add(d);
                }
            }
            requireAlive("migrate");
            if (state != DomainState.RUNNING) {
                throw new DomainException(DomainException.BAD_STATE, name(), "only a running domain can be migrated,"
                        + " '" + name() + "' is " + state.wireName());
            }
            if (!migrating.compareAndSet(false, true)) {
                throw new DomainException(DomainException.BAD_STATE, name(), "domain '" + name()
                        + "' is already being migrated");
            }
            java.util.concurrent.atomic.AtomicBoolean cancel = new java.util.concurrent.atomic.AtomicBoolean();
            migrationCancel = cancel;
            Machine m = machine;
            Log.info("migration_started", "domain", name(), "target", target, "downtime_ms",
                    options.downtimeMillis());
            java.util.Set<String> mirror = java.util.Set.copyOf(expanded);
            Thread.ofPlatform().daemon().name("migrate-" + name()).start(() -> runMigration(m, target, options,
                    cancel, mirror));
        }
    }

    /** Asks a running migration to stop; the guest keeps running here. */
    void cancelMigration() {
        var c = migrationCancel;
        if (!migrating.get() || c == null) {
            throw new DomainException(DomainException.BAD_STATE, name(), "domain '" + name()
                    + "' is not being migrated");
        }
        c.set(true);
    }

    private void runMigration(Machine m, java.net.InetSocketAddress target,
                              dev.domus.xen.migration.MigrationSource.Options options,
                              java.util.concurrent.atomic.AtomicBoolean cancel, java.util.Set<String> mirror) {
        long t0 = System.nanoTime();
        try {
            var r = dev.domus.xen.migration.MigrationSource.migrate(m, config.toMachineConfig(),
                    DomainRecord.encode(config), target, options,
                    p -> emit(new DomainEvent.Migration(now(), "round", p.round(), p.bytesSent(), p.remainingPages(),
                            0, (System.nanoTime() - t0) / 1_000_000, "")), cancel, mirror);
            Log.info("migration_done", "domain", name(), "target", target, "rounds", r.rounds(), "bytes",
                    r.bytesSent(), "downtime_us", r.downtimeMicros(), "total_ms", r.totalMillis());
            synchronized (lock) {
                emit(new DomainEvent.Migration(now(), "done", r.rounds(), r.bytesSent(), r.finalPages(),
                        r.downtimeMicros(), r.totalMillis(), ""));
                lastInfo = safeInfo();
                emit(new DomainEvent.Shutdown(now(), "migrated", 0));
                setState(DomainState.DYING);
                try {
                    machine.destroy();
                } catch (RuntimeException e) {
                    Log.warn("machine_destroy_failed", "domain", name(), "error", e.toString());
                }
            }
            thread.execute(() -> finish(DomainRunner.EXIT_MIGRATED));
        } catch (dev.domus.xen.migration.MigrationException e) {
            if (e.inDoubt()) {
                // The target may run the guest: keep this copy paused until someone checks (control-protocol.md).
                Log.error("migration_in_doubt", "domain", name(), "target", target, "error", e.getMessage());
                synchronized (lock) {
                    if (state == DomainState.RUNNING) {
                        setState(DomainState.PAUSED);
                    }
                }
                emit(new DomainEvent.Migration(now(), "in_doubt", 0, 0, 0, 0, (System.nanoTime() - t0) / 1_000_000,
                        String.valueOf(e.getMessage())));
            } else {
                migrationFailed(target, t0, e);
            }
        } catch (RuntimeException e) {
            migrationFailed(target, t0, e);
        } finally {
            migrating.set(false);
        }
    }

    private void migrationFailed(java.net.InetSocketAddress target, long t0, RuntimeException e) {
        Log.warn("migration_failed", "domain", name(), "target", target, "error", e.getMessage());
        emit(new DomainEvent.Migration(now(), "failed", 0, 0, 0, 0, (System.nanoTime() - t0) / 1_000_000,
                String.valueOf(e.getMessage())));
    }

    /** Switches guest RAM dirty logging on (all pages clean) or off; pauses the guest briefly to publish it. */
    void setDirtyLogging(boolean on) {
        synchronized (lock) {
            requireAlive("dirty-log");
            boolean wasRunning = state == DomainState.RUNNING;
            if (wasRunning) {
                machine.pause();
            }
            machine.dirtyLog().setEnabled(on);
            if (wasRunning) {
                machine.resume();
            }
        }
    }

    /** Pages written since logging started or since the last call; clears them. */
    long fetchDirtyPages() {
        synchronized (lock) {
            requireAlive("dirty-log");
            dev.domus.xen.memory.DirtyLog log = machine.dirtyLog();
            long n = 0;
            for (int w = 0; w < log.words(); w++) {
                n += Long.bitCount(log.fetchAndClear(w));
            }
            return n;
        }
    }

    boolean dirtyLogging() {
        synchronized (lock) {
            requireAlive("dirty-log");
            return machine.dirtyLog().enabled();
        }
    }

    /** Asks the guest to power off; with a timeout the domain is destroyed if it is still up by then. */
    void shutdown(long timeoutSeconds) {
        synchronized (lock) {
            requireAlive("shutdown");
            Log.info("shutdown_requested", "domain", name(), "timeout_s", timeoutSeconds);
            machine.requestShutdown(false);
            if (timeoutSeconds > 0) {
                cancelShutdownTimer();
                int gen = generation;
                shutdownTimer = thread.schedule(() -> shutdownTimedOut(gen), timeoutSeconds, TimeUnit.SECONDS);
            }
        }
    }

    void reboot() {
        synchronized (lock) {
            requireAlive("reboot");
            Log.info("reboot_requested", "domain", name());
            machine.requestShutdown(true);
        }
    }

    /** One line to the guest's control channel; the text is not logged (a resume line carries a seed). */
    void controlLine(String line) {
        synchronized (lock) {
            requireAlive("control-line");
            Log.info("control_line", "domain", name(), "command", line.split(" ", 2)[0], "chars", line.length());
            machine.sendControlLine(line);
        }
    }

    /** Stops the machine at once whatever its state; the domain ends. Idempotent. */
    void destroy() {
        synchronized (lock) {
            if (state == DomainState.DYING) {
                return;
            }
            boolean alive = state.isAlive();
            cancelShutdownTimer();
            Log.info("destroy", "domain", name(), "state", state.wireName());
            lastInfo = alive ? safeInfo() : lastInfo;
            emit(new DomainEvent.Shutdown(now(), "destroyed", 0));
            setState(DomainState.DYING);
            if (alive) {
                try {
                    machine.destroy();
                } catch (RuntimeException e) {
                    Log.warn("machine_destroy_failed", "domain", name(), "error", e.toString());
                }
            }
        }
        thread.execute(() -> finish(DomainRunner.EXIT_DESTROYED));
    }

    /** Feeds console input to the current machine; dropped while the machine is not running. */
    void consoleInput(byte[] data) {
        Machine m = machine;
        if (m == null) {
            return;
        }
        try {
            m.consoleInput(data);
        } catch (RuntimeException e) {
            // A stopped (preserved) machine may refuse input; the console simply goes nowhere then.
        }
    }

    /** Releases the domain thread; the machine is closed by {@link #finish} or here if the domain never ended. */
    void close() {
        synchronized (lock) {
            closeMachine();
        }
        thread.shutdownNow();
    }

    // ---- machine exits, on the domain thread

    private void onExit(int gen, ExitReason reason) {
        synchronized (lock) {
            if (gen != generation || state == DomainState.DYING || exitCode.isDone()) {
                return;
            }
            cancelShutdownTimer();
            lastInfo = safeInfo();
            Log.info("machine_exited", "domain", name(), "reason", describe(reason), "generation", gen);
            switch (reason) {
                case ExitReason.PowerOff p -> emit(new DomainEvent.Shutdown(now(), "poweroff", p.code()));
                case ExitReason.Reboot r -> emit(new DomainEvent.Reboot(now()));
                case ExitReason.Crash c -> emit(new DomainEvent.Crash(now(), c.reason()));
                case ExitReason.Destroyed d -> emit(new DomainEvent.Shutdown(now(), "destroyed", 0));
            }
            LifecycleAction action = config.actionFor(reason);
            switch (action) {
                case DESTROY -> {
                    setState(DomainState.DYING);
                    finish(exitStatus(reason));
                }
                case PRESERVE -> setState(reason instanceof ExitReason.Crash ? DomainState.CRASHED
                        : DomainState.SHUTDOWN);
                case RESTART -> restart();
            }
        }
    }

    private void restart() {
        Instant now = now();
        while (!restartTimes.isEmpty() && restartTimes.peekFirst().isBefore(now.minus(RESTART_WINDOW))) {
            restartTimes.removeFirst();
        }
        if (restartTimes.size() >= MAX_RESTARTS_IN_WINDOW) {
            Log.error("restart_loop", "domain", name(), "restarts", restartTimes.size(), "window", RESTART_WINDOW);
            setState(DomainState.DYING);
            finish(DomainRunner.EXIT_ERROR);
            return;
        }
        restartTimes.addLast(now);
        closeMachine();
        try {
            machine = newMachine();
            machine.start();
            started = true;
        } catch (RuntimeException e) {
            Log.error("restart_failed", "domain", name(), "error", e.toString());
            setState(DomainState.DYING);
            finish(DomainRunner.EXIT_ERROR);
            return;
        }
        restarts++;
        Log.info("domain_restarted", "domain", name(), "restarts", restarts);
        setState(DomainState.RUNNING);
    }

    private void shutdownTimedOut(int gen) {
        synchronized (lock) {
            if (gen != generation || !state.isAlive()) {
                return;
            }
            Log.warn("shutdown_timeout", "domain", name());
        }
        destroy();
    }

    private void finish(int status) {
        synchronized (lock) {
            closeMachine();
        }
        if (exitCode.complete(status)) {
            Log.info("domain_ended", "domain", name(), "exit_status", status);
        }
    }

    // ---- helpers, called with the lock held

    private Machine newMachine() {
        int gen = ++generation;
        return factory.create(config.toMachineConfig(), new MachineListener() {
            @Override
            public void consoleOutput(byte[] data, int off, int len) {
                console.output(data, off, len);
            }

            @Override
            public void exited(ExitReason reason) {
                // Machine threads must not block and must not take our lock: hand over to the domain thread.
                try {
                    thread.execute(() -> onExit(gen, reason));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // the domain is already closed
                }
            }
        });
    }

    private void closeMachine() {
        Machine m = machine;
        if (m == null) {
            return;
        }
        try {
            m.close();
        } catch (RuntimeException e) {
            Log.warn("machine_close_failed", "domain", name(), "error", e.toString());
        }
        machine = null;
    }

    private MachineInfo safeInfo() {
        Machine m = machine;
        if (m == null) {
            return lastInfo;
        }
        try {
            return m.info();
        } catch (RuntimeException e) {
            return lastInfo;
        }
    }

    private void requireAlive(String command) {
        if (!state.isAlive()) {
            throw new DomainException(DomainException.BAD_STATE, name(), "cannot " + command + " domain '" + name()
                    + "' in state " + state.wireName() + (state == DomainState.DYING ? "" : "; destroy it instead"));
        }
    }

    private void setState(DomainState s) {
        if (state == s) {
            return;
        }
        state = s;
        Log.info("state", "domain", name(), "state", s.wireName());
        emit(new DomainEvent.StateChanged(now(), s));
    }

    private void emit(DomainEvent e) {
        for (Consumer<DomainEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                Log.warn("event_listener_failed", "domain", name(), "error", ex.toString());
            }
        }
    }

    private void cancelShutdownTimer() {
        if (shutdownTimer != null) {
            shutdownTimer.cancel(false);
            shutdownTimer = null;
        }
    }

    private Instant now() {
        return clock.instant();
    }

    static int exitStatus(ExitReason reason) {
        return switch (reason) {
            case ExitReason.PowerOff p -> p.code() == 0 ? DomainRunner.EXIT_POWEROFF : DomainRunner.EXIT_POWEROFF_FAILED;
            case ExitReason.Reboot r -> DomainRunner.EXIT_POWEROFF;
            case ExitReason.Crash c -> DomainRunner.EXIT_CRASH;
            case ExitReason.Destroyed d -> DomainRunner.EXIT_DESTROYED;
        };
    }

    static String describe(ExitReason reason) {
        return switch (reason) {
            case ExitReason.PowerOff p -> "poweroff code=" + p.code();
            case ExitReason.Reboot r -> "reboot";
            case ExitReason.Crash c -> "crash: " + c.reason();
            case ExitReason.Destroyed d -> "destroyed";
        };
    }
}
