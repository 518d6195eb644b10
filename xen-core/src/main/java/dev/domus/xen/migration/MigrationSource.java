// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.devices.virtio.blk.BlkDevice;
import dev.domus.xen.memory.DirtyLog;
import dev.domus.xen.memory.GuestMemory;
import dev.domus.xen.snapshot.MachineState;
import dev.domus.xen.snapshot.Snapshots;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The sending side of a pre-copy live migration of one running machine.
 *
 * <p>Phases: handshake, optional disk mirroring ({@link DiskMirror}: bulk copy while the guest runs), a brief pause
 * to switch dirty logging on and take a preview of the device state (sent to warm up both sides' state codec), full
 * RAM (zero pages skipped: the target's RAM starts zeroed), dirty rounds each ended by a sync with the target, until
 * the modelled downtime of the dirty remainder fits {@link Options#downtimeMillis()} ({@link Convergence}: measured
 * end-to-end bandwidth plus measured fixed costs; a guest that dirties as fast as we send, or
 * {@link Options#maxRounds()}, throttles the vCPUs step by step), pause, last disk blocks, last pages and device
 * state, then the READY / COMMIT / DONE hand-over ({@link Handover}). Any failure before COMMIT turns dirty logging
 * off, lifts the throttle and resumes the guest, so the source keeps running and only one copy ever runs; a failure
 * after COMMIT leaves the guest paused ({@link MigrationException#inDoubt()}).
 */
public final class MigrationSource {
    private static final int PAGE = (int) GuestMemory.PAGE_SIZE;
    private static final int PAGES_PER_FRAME = 255;
    /**
     * State encodes before the pause, on a background thread at the lowest priority ({@link EncoderWarmUp}):
     * enough calls for HotSpot to compile the codec (C1 after a few hundred), so the encode inside the downtime runs
     * compiled code, not the bytecode interpreter (~10-30x slower); bounded by {@link #BACKGROUND_WARM_UP_NANOS}.
     */
    private static final int WARM_UP_ENCODES = 400;
    /** Time budget of the background encodes ({@link EncoderWarmUp}), which also end at PREPARE. */
    private static final long BACKGROUND_WARM_UP_NANOS = 1_000_000_000L;
    private static final System.Logger LOG = System.getLogger(MigrationSource.class.getName());
    private static final long ZERO_CHUNK = 1 << 20;
    /** How long a round-end sync spins for its answer before it blocks (see {@link Stream#awaitReadable}). */
    private static final long SYNC_SPIN_NANOS = 1_000_000L;
    private static final MemorySegment ZERO = MemorySegment.ofArray(new byte[(int) ZERO_CHUNK]);
    private static final java.lang.invoke.VarHandle LONG_BE = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    /**
     * @param downtimeMillis  target downtime (vCPUs stopped to ACK) used to decide when to stop and copy
     * @param maxRounds       dirty rounds before the vCPUs are throttled
     * @param throttlePercent lowest cpu cap the throttle steps down to (percent of one core over all vCPUs)
     * @param connectMillis   TCP connect and handshake timeout
     * @param ackMillis       how long to wait for the target's READY (and DONE) after the last byte
     */
    public record Options(long downtimeMillis, int maxRounds, int throttlePercent, int connectMillis,
                          int ackMillis) {
        public static final Options DEFAULT = new Options(5, 30, 20, 10_000, 60_000);

        public Options {
            if (downtimeMillis < 1 || downtimeMillis > 60_000 || maxRounds < 1 || maxRounds > 1000
                    || throttlePercent < 1 || throttlePercent > 100) {
                throw new IllegalArgumentException("downtime_ms must be 1..60000, max_rounds 1..1000 and the "
                        + "throttle 1..100 %, got " + downtimeMillis + ", " + maxRounds + ", " + throttlePercent);
            }
        }
    }

    /** Progress after each round: pages still dirty and what was sent so far. */
    public record Progress(int round, long bytesSent, long pagesSent, long remainingPages, long bandwidthBytesPerSec,
                           boolean throttled) { }

    /** A successful migration. */
    public record Result(int rounds, long bytesSent, long pagesSent, long downtimeMicros, long totalMillis,
                         long finalPages) { }

    /**
     * Receives progress; called in order on a thread of the migration's own (the rounds do not wait for it), every
     * call before {@code migrate} returns.
     */
    @FunctionalInterface
    public interface Listener {
        void progress(Progress p);
    }

    private final Machine machine;
    private final MachineConfig config;
    private final byte[] domain;
    private final Options options;
    private final Listener listener;
    private final AtomicBoolean cancelled;
    private final byte[] frame = new byte[4 + PAGES_PER_FRAME * (8 + PAGE)];
    private final java.util.Set<String> mirrorDisks;
    /** Shared disks whose image lock was handed to the target at the pause (taken back if the guest resumes here). */
    private final java.util.List<BlkDevice> releasedLocks = new java.util.ArrayList<>();
    private long pagesSent;
    private long sendNanos;
    /** The background encoder warm-up of the dirty rounds (a stopped one until they start). */
    private EncoderWarmUp encoderWarmUp = EncoderWarmUp.NONE;
    /** The target's answer to HELLO was read (HELLO_OK; a refusal throws). */
    private boolean helloAnswered;
    /** Its payload (capability flags) and when it was read ({@link System#nanoTime()}). */
    private byte[] helloOk = new byte[0];
    private long helloAt;
    /** Pages sent before the answer was read (the pipelined part of the handshake). */
    private long helloPages;
    /** When the pause had fetched the last dirty bits (for the log: part of {@code pages_us}). */
    private long fetchedAt;
    /**
     * Log lines of the phases before DONE, written when the migration ended: a line through the platform logger
     * took 10-30 ms on a loaded host, and the rounds (hence the pages the guest dirties meanwhile) waited for it.
     */
    private final java.util.List<String> notes = new java.util.ArrayList<>();
    /**
     * Progress for the listener, handed over in order to a virtual thread (see {@link Listener}): starting one
     * costs microseconds, where a platform thread's start took up to 85 ms of a round on a loaded host.
     */
    private final java.util.concurrent.BlockingQueue<Progress> progressQueue =
            new java.util.concurrent.LinkedBlockingQueue<>();
    private static final Progress END_OF_PROGRESS = new Progress(-1, 0, 0, 0, 0, false);
    private Thread progressOut;
    /** What the migration is doing, for the failure message. */
    private String phase = "connect";
    /** COMMIT has left: from here on the source must never resume its guest on its own (see {@link Handover}). */
    private boolean committed;
    /** This thread at real-time priority for the stop-and-copy (see {@link Priority}); lowered on every path. */
    private Priority.Raised raised = Priority.NONE;

    private MigrationSource(Machine machine, MachineConfig config, byte[] domain, Options options, Listener listener,
                            AtomicBoolean cancelled, java.util.Set<String> mirrorDisks) {
        this.mirrorDisks = java.util.Set.copyOf(mirrorDisks);
        this.machine = machine;
        this.config = config;
        this.domain = domain.clone();
        this.options = options;
        this.listener = listener;
        this.cancelled = cancelled;
    }

    /** {@link #warmSendPath}: scratch RAM and the number of full passes over it (time-bounded too). */
    private static final long WARM_SCRATCH_BYTES = 8L << 20;
    private static final int WARM_PASSES = 20;

    /**
     * Runs the full RAM pass's sender (residency scan, zero-run skipping, page copies into frames, socket writes)
     * over a scratch RAM into a discarding loopback reader in this process, until {@code budgetNanos} or
     * {@link #WARM_PASSES} passes are spent, so that a migration of this runner's guest meets compiled code: the
     * sending runner of a migration is usually one that never sent one (each migration's target becomes the next
     * one's source), and its first full pass ran its scan and copy loops interpreted. Best effort (a failure only
     * loses the speed-up); returns the passes run. Call on a background thread.
     */
    public static int warmSendPath(long budgetNanos) {
        long until = System.nanoTime() + budgetNanos;
        int passes = 0;
        try (GuestMemory scratch = GuestMemory.allocate(0x8000_0000L, WARM_SCRATCH_BYTES);
             java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             Socket client = new Socket(java.net.InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept();
             Stream out = new Stream(client);
             Stream in = new Stream(accepted)) {
            // Like a guest's RAM: a dense first quarter, then sparse pages between zero runs of various lengths.
            MemorySegment seg = scratch.segment();
            long pages = WARM_SCRATCH_BYTES / PAGE;
            for (long p = 0; p < pages; p++) {
                if (p < pages / 4 || p % 7 == 0 || (p / 300) % 3 == 0) {
                    seg.set(ValueLayout.JAVA_BYTE, p * PAGE + (p * 13) % PAGE, (byte) (p | 1));
                } else if ((p / 300) % 3 == 1) {
                    seg.set(ValueLayout.JAVA_BYTE, p * PAGE, (byte) 0); // resident but zero: the mismatch skip
                }
            }
            in.setTimeout(5_000);
            Thread reader = Thread.ofPlatform().daemon().name("warm-send-reader").start(() -> {
                try {
                    while (in.receive().type() != Stream.FINAL) {
                        // discarded
                    }
                } catch (IOException | RuntimeException e) {
                    // the sender stopped: nothing more to read
                }
            });
            MigrationSource warm = new MigrationSource(null, null, new byte[0], Options.DEFAULT, p -> { },
                    new AtomicBoolean(), java.util.Set.of());
            warm.helloAnswered = true; // no handshake here: pollHello stays out of the way
            while (passes < WARM_PASSES && (passes == 0 || System.nanoTime() < until)) {
                warm.sendAllNonZero(out, scratch);
                passes++;
            }
            out.send(Stream.FINAL, new byte[0]);
            out.flush();
            reader.join(5_000);
        } catch (IOException | RuntimeException e) {
            // only a lost speed-up
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return passes;
    }

    /**
     * Migrates the running {@code machine} to {@code target}. On success the machine is left paused (the caller
     * ends it: the guest now runs on the target); on failure it is running again and the exception says why, except
     * when the exception is {@linkplain MigrationException#inDoubt() in doubt}: then it stays paused.
     */
    public static Result migrate(Machine machine, MachineConfig config, byte[] domain, InetSocketAddress target,
                                 Options options, Listener listener, AtomicBoolean cancelled) {
        return migrate(machine, config, domain, target, options, listener, cancelled, java.util.Set.of());
    }

    /**
     * Like {@link #migrate(Machine, MachineConfig, byte[], InetSocketAddress, Options, Listener, AtomicBoolean)},
     * mirroring the disks named in {@code mirrorDisks} ({@code vda}, ..., or {@code all}) with {@link DiskMirror};
     * the others are shared and not copied.
     */
    public static Result migrate(Machine machine, MachineConfig config, byte[] domain, InetSocketAddress target,
                                 Options options, Listener listener, AtomicBoolean cancelled,
                                 java.util.Set<String> mirrorDisks) {
        return new MigrationSource(machine, config, domain, options, listener, cancelled, mirrorDisks).run(target);
    }

    private Result run(InetSocketAddress target) {
        long t0 = System.nanoTime();
        DirtyLog log = machine.dirtyLog();
        boolean paused = false;
        boolean logging = false;
        boolean throttled = false;
        committed = false;
        phase = "connect";
        Socket socket = new Socket();
        DiskMirror mirror = DiskMirror.of(machine.disks(), mirrorDisks);
        // The collector's management beans (for PREPARE) take ~0.1 s of class loading on first use: off this thread.
        Thread.ofPlatform().daemon().name("warm-collector").start(Collector::warm);
        startProgress();
        try (Stream s = new Stream(connect(socket, target))) {
            phase = "handshake";
            long connectedAt = System.nanoTime();
            s.setTimeout(options.connectMillis());
            sendHello(s);
            if (mirror.active()) {
                // The bulk disk copy needs the target's consent (its disk directory) before anything else.
                awaitHello(s);
                DiskMirror.requireTargetAccepts(helloOk);
                phase = "disk copy";
                mirror.bulk(s, cancelled::get);
            }
            long disksAt = System.nanoTime();
            phase = "full RAM";
            Convergence conv = new Convergence(options.downtimeMillis() * 1000L, options.maxRounds(),
                    config.vcpus(), options.throttlePercent());
            long pauseStart = System.nanoTime();
            machine.pause();
            long pauseNanos = System.nanoTime() - pauseStart;
            log.setEnabled(true);
            logging = true;
            MachineState preview = machine.captureState(domain);
            machine.resume();
            long previewAt = System.nanoTime();
            long encodedAt;
            long previewSentAt;
            int round = 0;
            long roundStart;
            long roundStart0;
            long before;
            long scannedAt;
            long fullAt;
            try {
                // The target starts decoding the preview in the background as soon as it arrives: send it first. Its
                // one encode is the fixed-cost figure until the background warm-up of the dirty rounds measures a
                // compiled one (EncoderWarmUp); the repetitions the JIT needs run there, off the full pass.
                byte[] previewBytes = Snapshots.encodeState(preview);
                encodedAt = System.nanoTime();
                conv.fixedCost((encodedAt - previewAt) / 1000);
                s.send(Stream.PREVIEW, previewBytes);
                s.flush();
                previewSentAt = System.nanoTime();
                // The encoder's repetitions for the JIT run on a thread of their own at the lowest priority, so
                // they take only the CPU time the sender and the guest leave idle (the full pass blocks in socket
                // writes, the dirty rounds wait for syncs); they end at PREPARE.
                encoderWarmUp = startEncoderWarmUp(preview);
                // Pipelined handshake (without mirroring): RAM follows the HELLO at once, while the target checks it
                // and allocates guest RAM; its answer is read as soon as it is there (pollHello, per page frame) and
                // at the latest before the full pass's sync. A refusal ends the copy there and the guest runs on.
                roundStart = System.nanoTime();
                roundStart0 = roundStart;
                before = s.bytesOut();
                try (Priority.Raised favoured = Priority.favourCurrentThread("source_full_pass")) {
                    sendAllNonZero(s, machine.memory());
                    scannedAt = System.nanoTime();
                    sync(s, round);
                }
                fullAt = System.nanoTime();
            } catch (IOException e) {
                throw refusalOr(s, e);
            }
            long probeNanos = 0;
            long roundNanos = fullAt - roundStart;
            long roundBytes = s.bytesOut() - before;
            conv.sample(roundBytes, roundNanos);
            long handshakeAt = helloAt;
            note("event=migration_handshake connect_us=" + (connectedAt - t0) / 1000
                    + " handshake_us=" + (handshakeAt - connectedAt) / 1000 + " pipelined=" + !mirror.active()
                    + " setup_us=" + (pauseStart - disksAt) / 1000 + " preview_us=" + (previewAt - pauseStart) / 1000
                    + " preview_encode_us=" + (encodedAt - previewAt) / 1000
                    + " preview_send_us=" + (previewSentAt - encodedAt) / 1000
                    + " hello_wait_us=" + (handshakeAt - connectedAt) / 1000
                    + " hello_pages=" + helloPages);
            note("event=migration_full_ram scan_send_us="
                    + (scannedAt - roundStart) / 1000 + " socket_write_us=" + sendNanos / 1000
                    + " sync_us=" + (System.nanoTime() - scannedAt) / 1000
                    + " warm_up_us=" + (roundStart0 - pauseStart) / 1000 + " first_pause_us=" + pauseNanos / 1000);
            long[] dirty = new long[log.words()];
            // The hand-over runs for the first time inside the downtime: load and initialise it now.
            Handover.warm();
            phase = "dirty rounds";
            Convergence.Decision d;
            long decideNanos = 0;
            long progressNanos = 0;
            long logNanos = 0;
            while (true) {
                long decideStart = System.nanoTime();
                checkCancelled();
                long remaining = log.fetchAndClearAll(dirty);
                long remainingBytes = remaining * (8 + PAGE);
                conv.fixedCost(Math.min(conv.fixedMicros(), encoderWarmUp.bestMicros()));
                d = conv.next(round, remainingBytes);
                if (round == 0 && d.action() == Convergence.Action.STOP && conv.rttMicros() == 0) {
                    // Stopping right after the full pass (an idle guest): first one round-trip probe with nothing
                    // before it, so the estimate includes the round trip. Otherwise the syncs of the small rounds
                    // measure it (Convergence keeps the smallest), and no probe delays round 1.
                    long probeStart = System.nanoTime();
                    sync(s, -1);
                    probeNanos = System.nanoTime() - probeStart;
                    conv.roundTrip(probeNanos);
                    d = conv.next(round, remainingBytes);
                }
                long progressAt = System.nanoTime();
                Progress progress = new Progress(round, s.bytesOut(), pagesSent, remaining, conv.bandwidth(),
                        throttled);
                progressQueue.add(progress);
                long loggedAt = System.nanoTime();
                progressNanos += loggedAt - progressAt;
                note("event=migration_round round=" + round + " sent_bytes="
                        + roundBytes + " round_us=" + roundNanos / 1000 + " dirty_pages=" + remaining
                        + " bandwidth_bps=" + conv.bandwidth() + " estimate_us=" + d.estimateMicros()
                        + " action=" + d.action() + " cap_percent=" + d.capPercent());
                logNanos += System.nanoTime() - loggedAt;
                if (d.action() == Convergence.Action.STOP) {
                    decideNanos += System.nanoTime() - decideStart;
                    break;
                }
                if (d.action() == Convergence.Action.THROTTLE) {
                    machine.setCpuCap(d.capPercent());
                    throttled = true;
                }
                round++;
                roundStart = System.nanoTime();
                decideNanos += roundStart - decideStart;
                before = s.bytesOut();
                sendPages(s, machine.memory(), dirty);
                sync(s, round);
                roundNanos = System.nanoTime() - roundStart;
                roundBytes = s.bytesOut() - before;
                conv.sample(roundBytes, roundNanos);
            }
            long roundsAt = System.nanoTime();
            checkCancelled();
            if (mirror.active()) {
                mirror.round(s); // what the guest wrote during the RAM rounds, while it still runs
            }
            // Both JVMs collect their young generation now, while the guest still runs: no collection can then
            // stop either of them inside the downtime (the p99 of the benchmark was one such stop).
            phase = "prepare";
            encoderWarmUp.stop();
            long prepareAt = System.nanoTime();
            long gcNanos = prepare(s, round + 1);
            long preparedAt = System.nanoTime();
            phase = "stop-and-copy";
            paused = true;
            StopCopy sc = stopAndCopy(s, log, dirty, mirror);
            raised.close();
            endProgress();
            flushNotes();
            // Downtime starts when the vCPUs have stopped (the guest runs until then), not at the pause request, and ends
            // here at DONE, which the target sends right after it resumed (an upper bound of the guest-visible gap).
            long downtime = (sc.doneAt() - sc.stoppedAt()) / 1000;
            LOG.log(System.Logger.Level.INFO, "event=migration_stop_copy paused_at_ns=" + sc.pauseAt()
                    + " stopped_at_ns=" + sc.stoppedAt()
                    + " pause_us=" + (sc.stoppedAt() - sc.pauseAt()) / 1000
                    + " state_us=" + (sc.stateAt() - sc.stoppedAt()) / 1000
                    + " pages_us=" + (sc.pagesAt() - sc.stateAt()) / 1000
                    + " fetch_us=" + (fetchedAt - sc.stateAt()) / 1000
                    + " flush_us=" + (sc.sentAt() - sc.pagesAt()) / 1000
                    + " ready_wait_us=" + (sc.readyAt() - sc.sentAt()) / 1000
                    + " commit_done_us=" + (sc.doneAt() - sc.readyAt()) / 1000
                    + " downtime_us=" + downtime + " estimate_us=" + d.estimateMicros() + " forced=" + d.forced()
                    + " fixed_bound=" + d.fixedBound()
                    + " final_pages=" + sc.finalPages() + " state_bytes=" + sc.stateBytes()
                    + " bandwidth_bps=" + conv.bandwidth() + " fixed_us=" + conv.fixedMicros()
                    + " rtt_us=" + conv.rttMicros()
                    + " rounds=" + (round + 1) + " cap_percent=" + conv.capPercent());
            // Where the total time went, phase by phase (each from the end of the one before): connect, handshake,
            // disk bulk copy, first pause + state preview + round-trip probes, full RAM pass with its sync, dirty
            // rounds, the last disk round, stop-and-copy up to DONE (the target runs the guest by then).
            LOG.log(System.Logger.Level.INFO, "event=migration_phases connect_us=" + (connectedAt - t0) / 1000
                    + " handshake_us=" + (handshakeAt - connectedAt) / 1000
                    + " disks_us=" + (disksAt - connectedAt) / 1000
                    + " warm_up_us=" + (roundStart0 - disksAt) / 1000
                    + " full_pass_us=" + (fullAt - roundStart0) / 1000
                    + " rounds_us=" + (roundsAt - fullAt) / 1000 + " probe_us=" + probeNanos / 1000
                    + " decide_us=" + decideNanos / 1000 + " progress_us=" + progressNanos / 1000
                    + " log_us=" + logNanos / 1000
                    + " disk_round_us=" + (prepareAt - roundsAt) / 1000
                    + " prepare_us=" + (preparedAt - prepareAt) / 1000 + " gc_us=" + gcNanos / 1000
                    + " stop_copy_us=" + (sc.doneAt() - sc.pauseAt()) / 1000
                    + " total_us=" + (sc.doneAt() - t0) / 1000);
            log.setEnabled(false);
            mirror.stop();
            // Total time ends at DONE: the guest runs on the target; the log lines above are bookkeeping.
            return new Result(round + 1, s.bytesOut(), pagesSent, downtime, (sc.doneAt() - t0) / 1_000_000,
                    sc.finalPages());
        } catch (IOException | RuntimeException e) {
            raised.close();
            mirror.stop();
            encoderWarmUp.stop();
            if (committed) {
                // COMMIT left, DONE never came: the target may run the guest now. Stay paused (see Handover).
                if (logging) {
                    log.setEnabled(false);
                }
                if (throttled) {
                    machine.setCpuCap(config.cpuCapPercent());
                }
                String why = e.getMessage() == null ? e.toString() : e.getMessage();
                throw new MigrationException("migration in doubt: COMMIT was sent but " + phase + " failed: "
                        + why + "; the guest stays paused here, check whether the target runs it", e, true);
            }
            // Before COMMIT the guest still lives here only: undo everything and let it run on.
            if (!paused) {
                machine.pause();
            }
            if (logging) {
                log.setEnabled(false);
            }
            if (throttled) {
                machine.setCpuCap(config.cpuCapPercent());
            }
            retakeLocks();
            machine.resume();
            if (e instanceof MigrationException me && phase.equals("dirty rounds") && cancelled.get()) {
                throw me;
            }
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new MigrationException("migration failed during " + phase + ": " + why, e);
        } finally {
            raised.close();
            endProgress();
            flushNotes();
        }
    }

    private void note(String line) {
        notes.add(line);
    }

    private void flushNotes() {
        for (String n : notes) {
            LOG.log(System.Logger.Level.INFO, n);
        }
        notes.clear();
    }

    private void startProgress() {
        progressOut = Thread.ofVirtual().name("migration-progress").start(() -> {
            try {
                for (Progress p = progressQueue.take(); p != END_OF_PROGRESS; p = progressQueue.take()) {
                    try {
                        listener.progress(p);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "event=migration_progress_failed error=" + e);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Waits (bounded) until every progress call ran, so they all precede what the caller reports next. */
    private void endProgress() {
        if (progressOut == null) {
            return;
        }
        progressQueue.add(END_OF_PROGRESS);
        try {
            if (!progressOut.join(java.time.Duration.ofSeconds(5))) {
                LOG.log(System.Logger.Level.WARNING, "event=migration_progress_late");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        progressOut = null;
    }

    /**
     * The guest resumes here (failure before COMMIT, or the target refused after it): take back the disk locks
     * handed over at the pause. The target takes them only after COMMIT and gives up before it refuses, so they
     * are free; if one is not, that disk refuses I/O until it is (never two writers), and the log says so.
     */
    private void retakeLocks() {
        for (BlkDevice d : releasedLocks) {
            try {
                d.acquireLock(10_000);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "event=migration_lock_not_retaken disk=" + d.target()
                        + " error=\"" + e.getMessage() + "\"");
            }
        }
        releasedLocks.clear();
    }

    /** Timestamps ({@link System#nanoTime()}) of the stop-and-copy steps. */
    private record StopCopy(long pauseAt, long stoppedAt, long pagesAt, long stateAt, long sentAt, long readyAt,
                            long doneAt, long finalPages, int stateBytes) { }

    /**
     * The downtime: pause, the last dirty disk blocks, the device state, then the pages dirtied since the last round
     * plus those fetched but not sent, {@code FINAL}, then the hand-over (READY, COMMIT, DONE). The state goes
     * first so the target decodes and checks it while the last pages are still on the wire. Everything this needs
     * was allocated and run once before (warm-up), so no class loading or interpreted first run lands here.
     */
    private StopCopy stopAndCopy(Stream s, DirtyLog log, long[] dirty, DiskMirror mirror) throws IOException {
        // Shared read-write disks: written back while the guest still runs, so the flush in the pause is short.
        for (BlkDevice d : machine.disks()) {
            if (!d.readOnly() && !mirror.mirrors(d)) {
                d.writeBack();
            }
        }
        // From here to DONE every wait is this thread's or the target's: neither waits out other tasks' slices.
        raised = Priority.raiseCurrentThread("source_pause");
        s.send(Stream.PAUSING, new byte[0]);
        s.flush();
        long pauseAt = System.nanoTime();
        machine.pause();
        long stoppedAt = System.nanoTime();
        // The target opens shared read-write disks without their lock and takes it after COMMIT: flush and let go.
        for (BlkDevice d : machine.disks()) {
            if (!d.readOnly() && !mirror.mirrors(d)) {
                d.releaseLock();
                releasedLocks.add(d);
            }
        }
        if (mirror.active()) {
            mirror.finish(s);
        }
        byte[] state = Snapshots.encodeState(machine.captureState(domain));
        s.send(Stream.STATE, state);
        // Out now, not when the page frames fill the buffer: the target starts decoding while the pages follow.
        s.flush();
        long stateAt = System.nanoTime();
        long finalPages = 0;
        for (int w = 0; w < dirty.length; w++) {
            dirty[w] |= log.fetchAndClear(w);
            finalPages += Long.bitCount(dirty[w]);
        }
        fetchedAt = System.nanoTime();
        sendPages(s, machine.memory(), dirty);
        long pagesAt = System.nanoTime();
        s.send(Stream.FINAL, new byte[0]);
        s.flush();
        long sentAt = System.nanoTime();
        phase = "waiting for the target's READY";
        Handover.awaitReady(s);
        long readyAt = System.nanoTime();
        phase = "sending COMMIT";
        Handover.commit(s);
        committed = true;
        phase = "waiting for the target's DONE";
        java.util.Optional<String> refused = Handover.awaitDone(s);
        if (refused.isPresent()) {
            // The target read COMMIT, could not run the guest and discarded its copy: this one is the only one.
            committed = false;
            phase = "the hand-over";
            throw new MigrationException("target refused after COMMIT: " + refused.get());
        }
        long doneAt = System.nanoTime();
        return new StopCopy(pauseAt, stoppedAt, pagesAt, stateAt, sentAt, readyAt, doneAt, finalPages, state.length);
    }

    /** Background encodes of the preview (nice 19, from the preview on), for the JIT; {@link #stop} ends them. */
    private static final class EncoderWarmUp {
        static final EncoderWarmUp NONE = new EncoderWarmUp();
        private volatile boolean stopped;
        private volatile long bestNanos = Long.MAX_VALUE;

        void stop() {
            stopped = true;
        }

        /** The fastest background encode so far (Long.MAX_VALUE / 1000 before the first). */
        long bestMicros() {
            return bestNanos / 1000;
        }
    }

    private static EncoderWarmUp startEncoderWarmUp(MachineState preview) {
        EncoderWarmUp w = new EncoderWarmUp();
        Thread.ofPlatform().daemon().name("warm-state-encoder").start(() -> {
            Priority.backgroundCurrentThread("state_encoder_warm_up");
            long until = System.nanoTime() + BACKGROUND_WARM_UP_NANOS;
            try {
                for (int i = 0; i < WARM_UP_ENCODES && !w.stopped && System.nanoTime() < until; i++) {
                    long a = System.nanoTime();
                    Snapshots.encodeState(preview);
                    w.bestNanos = Math.min(w.bestNanos, System.nanoTime() - a);
                }
            } catch (RuntimeException e) {
                // it encoded before; a warm-up never fails the migration
            }
        });
        return w;
    }

    /**
     * Announces the pause ({@link Stream#PREPARE}), empties this JVM's young generation while the target does the
     * same, and waits for its answer; returns the nanoseconds this side's collection took.
     */
    private long prepare(Stream s, long seq) throws IOException {
        sendSequenced(s, Stream.PREPARE, seq);
        long gc = Collector.collectYoung();
        awaitSyncOk(s, seq, "the pause announcement");
        return gc;
    }

    /** Flushes and waits until the target applied everything sent so far. */
    private void sync(Stream s, long seq) throws IOException {
        sendSequenced(s, Stream.SYNC, seq);
        awaitSyncOk(s, seq, "sync " + seq);
    }

    /** Sends a frame of {@code type} whose payload is the {@code u64} sequence {@code seq}, and flushes. */
    private static void sendSequenced(Stream s, int type, long seq) throws IOException {
        byte[] b = new byte[8];
        ByteBuffer.wrap(b).putLong(seq);
        s.send(type, b);
        s.flush();
    }

    /**
     * Waits for the target's {@code SYNC_OK} with {@code seq}; its ERROR or any other frame fails the migration.
     * The last rounds are small: their answer comes within a round trip, and a prompt one keeps the round (hence
     * the pages it leaves dirty) short, so it spins briefly first; the full pass's backlog outlasts the spin and
     * blocks as before.
     */
    private void awaitSyncOk(Stream s, long seq, String what) throws IOException {
        awaitHello(s);
        Stream.Frame f = s.receive(SYNC_SPIN_NANOS);
        if (f.type() == Stream.ERROR) {
            throw new MigrationException("target failed: " + f.text());
        }
        if (f.type() != Stream.SYNC_OK || f.length() != 8 || ByteBuffer.wrap(f.payload()).getLong() != seq) {
            throw new MigrationException("unexpected reply to " + what + ": frame type " + f.type());
        }
    }

    private Socket connect(Socket socket, InetSocketAddress target) throws IOException {
        socket.connect(target, options.connectMillis());
        return socket;
    }

    private void checkCancelled() {
        if (cancelled.get()) {
            throw new MigrationException("cancelled");
        }
    }

    /** Sends HELLO (versions, configuration, domain record); the answer is read by {@link #awaitHelloOk}. */
    private void sendHello(Stream s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.write(Stream.MAGIC);
        d.writeInt(Stream.VERSION);
        byte[] cfg = Snapshots.encodeConfig(config);
        d.writeInt(cfg.length);
        d.write(cfg);
        d.writeInt(domain.length);
        d.write(domain);
        s.send(Stream.HELLO, b.toByteArray());
        s.flush();
    }

    /**
     * Reads the target's answer to HELLO unless that was done (blocking, within the connect timeout): HELLO_OK
     * (its payload, the capability flags, lands in {@link #helloOk}) or its refusal, which fails the migration.
     */
    private void awaitHello(Stream s) throws IOException {
        if (helloAnswered) {
            return;
        }
        Stream.Frame reply = s.receive();
        if (reply.type() == Stream.ERROR) {
            throw new MigrationException("target refused: " + reply.text());
        }
        if (reply.type() != Stream.HELLO_OK) {
            throw new MigrationException("unexpected handshake reply type " + reply.type());
        }
        helloOk = reply.copy();
        helloAnswered = true;
        helloAt = System.nanoTime();
        helloPages = pagesSent;
        s.setTimeout(options.ackMillis());
    }

    /** {@link #awaitHello} if its first byte is here already (one non-blocking check): a refusal stops the copy. */
    private void pollHello(Stream s) throws IOException {
        if (!helloAnswered && s.readable()) {
            awaitHello(s);
        }
    }

    /**
     * A write failed before the target answered HELLO: it refused and closed the connection (its ERROR frame is
     * usually still in this side's receive buffer, read before the reset) or it died. Returns the refusal, or
     * the original failure when there is none to read.
     */
    private IOException refusalOr(Stream s, IOException failure) {
        if (helloAnswered) {
            return failure;
        }
        try {
            s.setTimeout(1_000);
            Stream.Frame reply = s.receive();
            if (reply.type() == Stream.ERROR) {
                throw new MigrationException("target refused: " + reply.text(), failure);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof MigrationException me && me.getCause() == failure) {
                throw me;
            }
            // nothing readable: the write's failure is the news
        }
        return failure;
    }

    /**
     * Sends every page that is not all zero. Pages the kernel never backed are skipped without touching them
     * ({@link Residency}); within resident runs, zero stretches are skipped with one vectorised {@code mismatch}
     * per {@link #ZERO_CHUNK} instead of one call per page.
     */
    private void sendAllNonZero(Stream s, GuestMemory ram) throws IOException {
        MemorySegment seg = ram.segment();
        long pages = ram.size() / PAGE;
        byte[] resident = Residency.residentPages(seg, PAGE).orElse(null);
        int n = 0;
        long p = 0;
        while (p < pages) {
            if (resident != null && (resident[(int) p] & 1) == 0) {
                p++;
                continue;
            }
            long end = p + 1;
            while (end < pages && (resident == null || (resident[(int) end] & 1) != 0)) {
                end++;
            }
            n = sendNonZero(s, seg, p * PAGE, end * PAGE, n);
            p = end;
        }
        flushPages(s, n);
    }

    /** Adds the non-zero pages of [from, to) (page aligned) to the current frame; returns its new page count. */
    private int sendNonZero(Stream s, MemorySegment seg, long from, long to, int n) throws IOException {
        long off = from;
        while (off < to) {
            checkCancelled();
            long len = Math.min(ZERO_CHUNK, to - off);
            long m = seg.asSlice(off, len).mismatch(ZERO.asSlice(0, len));
            if (m == -1) {
                off += len;
                continue;
            }
            long page = (off + m) / PAGE;
            n = add(s, seg, page, n);
            off = (page + 1) * PAGE;
        }
        return n;
    }

    private void sendPages(Stream s, GuestMemory ram, long[] bitmap) throws IOException {
        MemorySegment seg = ram.segment();
        int n = 0;
        for (int w = 0; w < bitmap.length; w++) {
            long bits = bitmap[w];
            while (bits != 0) {
                int b = Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                n = add(s, seg, ((long) w << 6) + b, n);
            }
        }
        flushPages(s, n);
    }

    private int add(Stream s, MemorySegment seg, long page, int n) throws IOException {
        int at = 4 + n * (8 + PAGE);
        LONG_BE.set(frame, at, page);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, page * PAGE, frame, at + 8, PAGE);
        pagesSent++;
        if (n + 1 == PAGES_PER_FRAME) {
            flushPages(s, n + 1);
            return 0;
        }
        return n + 1;
    }

    private void flushPages(Stream s, int n) throws IOException {
        if (n == 0) {
            return;
        }
        pollHello(s);
        ByteBuffer.wrap(frame, 0, 4).putInt(n);
        long a = System.nanoTime();
        s.send(Stream.PAGES, frame, 0, 4 + n * (8 + PAGE));
        sendNanos += System.nanoTime() - a;
    }
}
