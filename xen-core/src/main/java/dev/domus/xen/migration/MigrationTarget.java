// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.memory.GuestMemory;
import dev.domus.xen.snapshot.MachineImage;
import dev.domus.xen.snapshot.MachineState;
import dev.domus.xen.snapshot.SnapshotException;
import dev.domus.xen.snapshot.Snapshots;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;

/**
 * The receiving side: validates the handshake, allocates RAM only after the configuration was checked, applies
 * page frames (each index checked against RAM) and the final state, and hands back an {@link Incoming} whose
 * {@link Incoming#awaitCommit()} runs the hand-over with the source. Anything wrong before that discards what was received.
 */
public final class MigrationTarget {
    private static final int PAGE = (int) GuestMemory.PAGE_SIZE;
    private static final long RAM_BASE = 0x8000_0000L;
    /**
     * Background decodes of the preview: enough for HotSpot to compile the codec before the real state arrives
     * (see {@code MigrationSource}'s encodes), bounded in time; they stop as soon as the real state is here.
     */
    private static final int WARM_UP_DECODES = 400;
    /** Marks a disk write-back that was already waited for. */
    private static final Thread FLUSHED = Thread.ofPlatform().unstarted(() -> { });
    private static final long WARM_UP_NANOS = 200_000_000L;
    /** How long the receiver spins for the next frame after answering a round's sync. */
    private static final long ROUND_SPIN_NANOS = 1_000_000L;
    /** {@link #warmUp}: page frames (64 pages each: C2 compiles the apply loop well within) and time budget. */
    private static final int WARM_UP_FRAMES = 400;
    private static final long WARM_UP_RECEIVE_NANOS = 400_000_000L;
    /** How long the receiver spins for the pause's state after {@code PAUSING} (the source's vCPUs stop first). */
    private static final long PAUSE_SPIN_NANOS = 3_000_000L;
    private static final java.lang.invoke.VarHandle LONG_BE = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.BIG_ENDIAN);
    private static final System.Logger LOG = System.getLogger(MigrationTarget.class.getName());

    private MigrationTarget() {
    }

    /**
     * Where mirrored disks go: images are created in {@code dir}, and each one's path is appended to
     * {@code journal} right after it was created, so the process that started this receiver can delete them with
     * {@link #discardJournal} if the receiver dies without cleaning up.
     */
    public record DiskTarget(java.nio.file.Path dir, java.nio.file.Path journal) {
        public DiskTarget {
            java.util.Objects.requireNonNull(dir, "dir");
            java.util.Objects.requireNonNull(journal, "journal");
        }
    }

    /**
     * A machine built before the source connected ({@code xl migrate-receive --config}): the configuration it was
     * built for and the guest RAM it runs on, which the incoming pages are written into. The HELLO must announce
     * exactly {@code config}, else the handshake is refused (nothing is allocated at HELLO then). The receiver never
     * closes {@code ram}: the machine owns it.
     */
    public record Prepared(MachineConfig config, GuestMemory ram) {
        public Prepared {
            java.util.Objects.requireNonNull(config, "config");
            java.util.Objects.requireNonNull(ram, "ram");
            if (ram.base() != RAM_BASE || ram.size() != (long) config.memoryMiB() << 20) {
                throw new IllegalArgumentException("prepared RAM is " + ram.size() + " bytes at 0x"
                        + Long.toHexString(ram.base()) + ", the configuration needs " + config.memoryMiB() + " MiB");
            }
        }

        /** Guest RAM for {@code config} at the base this receiver writes pages to. */
        public static GuestMemory allocateRam(MachineConfig config) {
            return GuestMemory.allocate(RAM_BASE, (long) config.memoryMiB() << 20);
        }
    }

    /** Deletes the images a dead receiver listed in {@code journal}, then the journal (missing: nothing to do). */
    public static void discardJournal(java.nio.file.Path journal) {
        DiskMirrorReceiver.cleanUp(journal);
    }

    /** A fully received machine waiting for the caller to build it and acknowledge. */
    public static final class Incoming implements MachineImage, AutoCloseable {
        private final Stream stream;
        private final byte[] domain;
        private final MachineConfig config;
        private final java.util.concurrent.CompletableFuture<MachineState> state =
                new java.util.concurrent.CompletableFuture<>();
        private final int timeoutMillis;
        private final DiskMirrorReceiver disks;
        private final java.util.concurrent.CompletableFuture<java.util.Map<String, java.nio.file.Path>> mirrored =
                new java.util.concurrent.CompletableFuture<>();
        private GuestMemory memory;
        private volatile long pages;
        private volatile long bytes;
        private volatile long stateAtNanos;
        private volatile long decodeNanos;
        /** Writes the bulk disk copy back ({@link #FLUSHED} once waited for); receiving thread only. */
        private Thread flushThread;
        /** Set when the final state frame arrived: background warm-up stops. */
        private volatile boolean stateArrived;
        private volatile long finalAtNanos;
        /** Why the preview did not decode or check (set by its background decoder), null while fine. */
        private volatile String previewProblem;
        /** READY went out when the stream ended ({@code FINAL}). */
        private volatile boolean readySent;
        /** The preview state, decoded and checked by the background decoder. */
        private final java.util.concurrent.CompletableFuture<MachineState> preview =
                new java.util.concurrent.CompletableFuture<>();
        /** {@code PAUSING} (or the state itself) arrived: the source stops its vCPUs, warm-ups get out of the way. */
        private volatile boolean pausing;
        /** The receiving thread at real-time priority from the pause's announcement to {@link #close}. */
        private Priority.Raised raised = Priority.NONE;
        /** The receiving thread favoured during the full RAM pass ({@link #favourForFullPass}). */
        private Priority.Raised favoured = Priority.NONE;
        private boolean favourTaken;
        /**
         * Counted down when the full RAM pass ended (its sync), or anything later arrived, or the stream closed:
         * the repeated warm-ups (state decodes, restore rehearsals) wait for it, so they do not take CPU from
         * receiving the bulk of RAM (two cores: the source's vCPU holds one).
         */
        private final java.util.concurrent.CountDownLatch fullPassDone = new java.util.concurrent.CountDownLatch(1);
        /** How long the collection at {@code PREPARE} took. */
        private volatile long gcNanos;
        /** The caller's build of the machine ({@link #building}), null when it did not say. */
        private volatile java.util.concurrent.Future<?> build;
        /** How long {@code PREPARE} waited for that build. */
        private volatile long buildWaitNanos;
        /** {@link System#nanoTime()} when the HELLO had arrived and when HELLO_OK was sent. */
        private volatile long helloAtNanos;
        private volatile long helloOkAtNanos;

        Incoming(Stream stream, byte[] domain, MachineConfig config, GuestMemory memory, int timeoutMillis,
                 java.util.Optional<DiskTarget> disksTo) {
            this.stream = stream;
            this.domain = domain;
            this.config = config;
            this.memory = memory;
            this.timeoutMillis = timeoutMillis;
            this.disks = new DiskMirrorReceiver(disksTo.map(DiskTarget::dir), disksTo.map(DiskTarget::journal), config);
        }

        /**
         * The disks the source mirrors here (target name to the new image), empty when it mirrors none. Blocks
         * until that is known: at the first RAM frame without mirroring, right after {@code DISK_BEGIN} (the images
         * exist at their full size, still sparse) with it. The machine may be built on them then, while they fill:
         * its vCPUs stay parked until COMMIT, and the device state (hence READY) is only accepted after
         * {@code DISK_DONE}, so the guest never sees a half-copied disk, and building adds nothing to the downtime.
         */
        public java.util.Map<String, java.nio.file.Path> mirroredDisks() {
            try {
                return mirrored.get(Math.max(timeoutMillis, 1) * 10L, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new MigrationException("incoming migration failed: " + e.getCause().getMessage(), e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new MigrationException("incoming migration: the disk copy did not end in time");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MigrationException("interrupted while waiting for the mirrored disks");
            }
        }

        /** The guest runs here now: the mirrored images are the domain's, the clean-up journal goes. */
        public void disksCommitted() {
            synchronized (disks) {
                disks.committed();
            }
        }

        /** Deletes the mirrored images (the migrated domain will not run here); call after its disks closed. */
        public void discardDisks() {
            synchronized (disks) {
                disks.discard();
            }
        }

        /** The configuration announced in the handshake. */
        public MachineConfig config() { return config; }

        /** The source's domain record (its configuration). */
        public byte[] domain() { return domain.clone(); }

        /**
         * The device state; blocks until it arrived (a machine may be built while RAM still streams in, the RAM it
         * took from {@link #takeMemory} keeps filling until then).
         */
        @Override
        public MachineState state() {
            try {
                return state.get(Math.max(timeoutMillis, 1) * 10L, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new SnapshotException("incoming migration failed: " + e.getCause().getMessage(), e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new SnapshotException("incoming migration: no device state in time");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SnapshotException("interrupted while waiting for the migrated device state");
            }
        }

        /**
         * The source's state preview once it was decoded and checked (within {@code millis}), for warming the
         * restore path on the prepared machine ({@code Machine.rehearseRestore}); empty when it did not come.
         */
        public java.util.Optional<MachineState> awaitPreview(long millis) {
            try {
                return java.util.Optional.of(preview.get(millis, java.util.concurrent.TimeUnit.MILLISECONDS));
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                return java.util.Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return java.util.Optional.empty();
            }
        }

        /**
         * Waits (at most {@code millis}) until the full RAM pass is over (see {@link #fullPassDone}); true if it is.
         */
        public boolean awaitFullPass(long millis) {
            try {
                return fullPassDone.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        private boolean fullPassOver() {
            return fullPassDone.getCount() == 0;
        }

        /** True once the source announced its pause: from then on warm-ups must not compete for the CPU. */
        public boolean pauseAnnounced() {
            return pausing || stateArrived;
        }

        public long pagesReceived() { return pages; }

        /** {@link System#nanoTime()} when the source's HELLO had been read. */
        public long helloReceivedAtNanos() { return helloAtNanos; }

        /** {@link System#nanoTime()} when HELLO_OK was sent (guest RAM allocated, RAM frames applied from then). */
        public long helloAnsweredAtNanos() { return helloOkAtNanos; }

        /** How long this side's young collection before the pause took ({@code PREPARE}), 0 before. */
        public long collectNanos() { return gcNanos; }

        /**
         * Tells the receiver that the caller builds the machine in {@code build} (call from the {@code accepted}
         * callback): {@code PREPARE} is then answered only once the build ended (at most half the stream timeout;
         * its failure is not the receiver's to report), so the source's pause never waits for a build that is
         * still running. That wait counts in the total time, not in the downtime.
         */
        public void building(java.util.concurrent.Future<?> build) {
            this.build = build;
        }

        /** How long {@code PREPARE} waited for the build ({@link #building}), 0 when it did not. */
        public long buildWaitNanos() { return buildWaitNanos; }

        private void awaitBuild() {
            java.util.concurrent.Future<?> b = build;
            if (b == null || b.isDone()) {
                return;
            }
            long start = System.nanoTime();
            try {
                b.get(Math.max(timeoutMillis / 2, 1), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // the caller reports a failed or late build after FINAL (the source resumes then)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MigrationException("interrupted while waiting for the machine build");
            } finally {
                buildWaitNanos = System.nanoTime() - start;
            }
        }

        public long bytesReceived() { return bytes; }

        /** {@link System#nanoTime()} when the final device state frame had arrived (start of its decode). */
        public long stateReceivedAtNanos() { return stateAtNanos; }

        /** {@link System#nanoTime()} when the stop-and-copy was complete ({@code FINAL}, READY sent). */
        public long finalReceivedAtNanos() { return finalAtNanos; }

        /** How long decoding and checking the final device state took. */
        public long stateDecodeNanos() { return decodeNanos; }

        @Override
        public synchronized GuestMemory takeMemory(long base, long size) {
            if (memory == null) {
                throw new SnapshotException("migrated RAM was already taken");
            }
            if (memory.base() != base || memory.size() != size) {
                throw new SnapshotException("migrated RAM is " + memory.size() + " bytes, machine needs " + size);
            }
            GuestMemory m = memory;
            memory = null;
            return m;
        }

        /**
         * Waits for the source's COMMIT (READY went out when the stream ended, so it is usually here already). Only
         * when this returns may the caller resume the guest; on any exception it must discard its copy (see
         * {@link Handover}). If the caller cannot run the guest (its state did not apply), {@link #refuse} tells
         * the source, before or after COMMIT, which then resumes its copy.
         */
        public void awaitCommit() throws IOException {
            if (!readySent) {
                Handover.ready(stream);
                readySent = true;
            }
            Handover.awaitCommit(stream);
        }

        /** After resuming: tells the source it may end its copy (DONE); false if that could not be sent. */
        public boolean done() {
            return Handover.done(stream);
        }

        /** Tells the source why the machine cannot run here (best effort). */
        public void refuse(String why) {
            try {
                stream.send(Stream.ERROR, why.getBytes(StandardCharsets.UTF_8));
                stream.flush();
            } catch (IOException e) {
                // the source notices the closed connection instead
            }
        }

        /**
         * Raises the receiving (calling) thread for the pause: it picks up the state, applies the last pages and,
         * in the runner, restores and resumes the guest; {@link #close} lowers it again. Once per migration.
         */
        synchronized void raisePriority() {
            if (!raised.raised()) {
                raised = Priority.raiseCurrentThread("target_pause");
            }
        }

        /** Lowers the receiving thread again (idempotent; {@link #close} does it too). */
        public synchronized void lowerPriority() {
            raised.close();
            favoured.close();
        }

        /**
         * The receiving thread is favoured over this runner's other threads (the domain build) for the full RAM
         * pass, once: from its first page frame (after every thread it starts before) to its sync.
         */
        private synchronized void favourForFullPass() {
            if (!favourTaken) {
                favourTaken = true;
                favoured = Priority.favourCurrentThread("target_full_pass");
            }
        }

        private synchronized void endFavour() {
            favoured.close();
        }

        @Override
        public synchronized void close() {
            raised.close(); // first: every path (done, refused, failed) ends here
            favoured.close();
            state.completeExceptionally(new MigrationException("migration stream closed"));
            fullPassDone.countDown();
            preview.completeExceptionally(new MigrationException("migration stream closed"));
            mirrored.completeExceptionally(new MigrationException("migration stream closed"));
            stream.close();
            if (memory != null) {
                memory.close();
                memory = null;
            }
        }
    }

    /**
     * Receives one migration on an accepted connection.
     *
     * @param check returns an error message when a machine of that configuration (and domain record) cannot run
     *              here, or null to accept
     * @throws MigrationException when the stream is invalid or breaks; nothing is left allocated then
     */
    public static Incoming receive(Socket socket, Function<MachineConfig, String> check, int timeoutMillis) {
        return receive(socket, check, timeoutMillis, in -> { });
    }

    /**
     * Like {@link #receive(Socket, Function, int)}; {@code accepted} is called (on this thread, it must not block)
     * once the handshake was accepted, so the caller can build the machine while RAM streams in. On failure the
     * incoming object is closed, which fails a blocked {@link Incoming#state()}.
     */
    public static Incoming receive(Socket socket, Function<MachineConfig, String> check, int timeoutMillis,
                                   java.util.function.Consumer<Incoming> accepted) {
        return receive(socket, (c, domain) -> check.apply(c), timeoutMillis, accepted, java.util.Optional.empty());
    }

    /**
     * Like {@link #receive(Socket, Function, int, java.util.function.Consumer)}, accepting mirrored disks into
     * {@code diskDir} ({@link Incoming#mirroredDisks()}); without a directory a mirroring source is refused.
     * {@code check} also sees the source's domain record (e.g. to check its shared disks exist here).
     */
    public static Incoming receive(Socket socket, java.util.function.BiFunction<MachineConfig, byte[], String> check,
                                   int timeoutMillis, java.util.function.Consumer<Incoming> accepted,
                                   java.util.Optional<DiskTarget> diskDir) {
        return receive(socket, check, timeoutMillis, accepted, diskDir, java.util.Optional.empty());
    }

    /**
     * Like {@link #receive(Socket, java.util.function.BiFunction, int, java.util.function.Consumer,
     * java.util.Optional)}, into the RAM of a machine built before the source connected ({@code prepared}): a HELLO
     * whose configuration is not the prepared one is refused, and nothing is allocated at HELLO (its answer is a
     * few checks). Mirrored disks cannot go into a prepared machine ({@code diskDir} must be empty then).
     */
    public static Incoming receive(Socket socket, java.util.function.BiFunction<MachineConfig, byte[], String> check,
                                   int timeoutMillis, java.util.function.Consumer<Incoming> accepted,
                                   java.util.Optional<DiskTarget> diskDir, java.util.Optional<Prepared> prepared) {
        if (prepared.isPresent() && diskDir.isPresent()) {
            throw new IllegalArgumentException("a prepared machine takes no mirrored disks");
        }
        Stream s;
        try {
            s = new Stream(socket);
            s.setTimeout(timeoutMillis);
        } catch (IOException e) {
            throw new MigrationException("cannot use the migration connection: " + e.getMessage(), e);
        }
        GuestMemory mem = null;
        Incoming incoming = null;
        String phase = "handshake";
        // The source streams pages right behind its HELLO: until HELLO_OK is out they pile up in the socket
        // buffers and the source blocks, so the answer is favoured like the full pass (against this runner's
        // warm-ups and class loading). Put back before the build thread starts (it would inherit the value).
        Priority.Raised handshakeFavour = Priority.favourCurrentThread("target_handshake");
        try {
            Stream.Frame hello = s.receive();
            long helloAt = System.nanoTime();
            if (hello.type() != Stream.HELLO) {
                throw new MigrationException("expected HELLO, got frame type " + hello.type());
            }
            ByteBuffer b = ByteBuffer.wrap(hello.payload(), 0, hello.length());
            byte[] magic = new byte[8];
            if (b.remaining() < 16) {
                throw new MigrationException("HELLO is too short");
            }
            b.get(magic);
            if (!Arrays.equals(magic, Stream.MAGIC)) {
                throw new MigrationException("not a Domus migration stream (bad magic)");
            }
            int version = b.getInt();
            if (version != Stream.VERSION) {
                String why = "migration stream version " + version + " is not supported (this host speaks "
                        + Stream.VERSION + ")";
                s.send(Stream.ERROR, why.getBytes(StandardCharsets.UTF_8));
                s.flush();
                throw new MigrationException(why);
            }
            byte[] cfgBytes = chunk(b, 64 * 1024, "config");
            byte[] domain = chunk(b, MachineState.MAX_DOMAIN_BYTES, "domain record");
            MachineConfig config;
            long decodeAt = System.nanoTime();
            try {
                config = Snapshots.decodeConfig(cfgBytes);
            } catch (SnapshotException e) {
                throw new MigrationException("bad configuration in HELLO: " + e.getMessage());
            }
            long checkAt = System.nanoTime();
            String refusal = prepared.isPresent() && !prepared.get().config().equals(config)
                    ? "the target's machine was built ahead for another configuration: "
                    + configDifferences(prepared.get().config(), config)
                    : check.apply(config, domain);
            long checkedAt = System.nanoTime();
            if (refusal != null) {
                s.send(Stream.ERROR, refusal.getBytes(StandardCharsets.UTF_8));
                s.flush();
                throw new MigrationException("refused: " + refusal);
            }
            // A prepared machine already holds its RAM (the Incoming then owns none and never closes it).
            mem = prepared.isPresent() ? prepared.get().ram()
                    : GuestMemory.allocate(RAM_BASE, (long) config.memoryMiB() << 20);
            long allocatedAt = System.nanoTime();
            incoming = new Incoming(s, domain, config, prepared.isPresent() ? null : mem, timeoutMillis, diskDir);
            long createdAt = System.nanoTime();
            s.send(Stream.HELLO_OK, DiskMirror.helloFlags(diskDir.isPresent()));
            s.flush();
            incoming.helloAtNanos = helloAt;
            incoming.helloOkAtNanos = System.nanoTime();
            handshakeFavour.close();
            LOG.log(System.Logger.Level.INFO, "event=migration_hello_answered parse_us=" + (decodeAt - helloAt) / 1000
                    + " config_us=" + (checkAt - decodeAt) / 1000 + " check_us=" + (checkedAt - checkAt) / 1000
                    + " alloc_us=" + (allocatedAt - checkedAt) / 1000
                    + " incoming_us=" + (createdAt - allocatedAt) / 1000
                    + " send_us=" + (incoming.helloOkAtNanos - allocatedAt) / 1000
                    + " favoured=" + (handshakeFavour != Priority.NONE));
            accepted.accept(incoming);
            phase = "RAM";
            long pages = mem.size() / PAGE;
            long received = 0;
            long bytes = 0;
            MemorySegment seg = mem.segment();
            MachineState finalState = null;
            while (true) {
                Stream.Frame f = s.receive();
                bytes += 9L + f.length();
                if (f.type() == Stream.DISK_BEGIN || f.type() == Stream.DISK_BLOCK || f.type() == Stream.DISK_DONE) {
                    diskFrame(incoming, f);
                } else if (f.type() == Stream.PAGES) {
                    if (finalState != null) {
                        received += applyPages(f, seg, pages); // the pause's last pages, after the state
                        continue;
                    }
                    if (!incoming.disks.begun()) {
                        incoming.mirrored.complete(java.util.Map.of()); // RAM first: nothing is mirrored
                    } else if (incoming.flushThread == null) {
                        incoming.flushThread = flushInBackground(incoming);
                    }
                    if (!incoming.fullPassOver()) {
                        incoming.favourForFullPass();
                    }
                    received += applyPages(f, seg, pages);
                } else if (f.type() == Stream.SYNC && finalState == null) {
                    if (incoming.previewProblem != null) {
                        throw new MigrationException("bad state preview: " + incoming.previewProblem);
                    }
                    // The first round's sync also waits for the bulk disk copy to be on disk: the fsync at
                    // DISK_DONE, inside the downtime, then only has the blocks written since. This costs total
                    // time, not downtime.
                    if (incoming.flushThread != null && f.length() == 8
                            && ByteBuffer.wrap(f.payload(), 0, 8).getLong() >= 0) {
                        try {
                            incoming.flushThread.join(Math.max(timeoutMillis, 1));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new MigrationException("interrupted while the disk copy was written back");
                        }
                        incoming.flushThread = FLUSHED;
                    }
                    // Everything before it is applied: answer with the same sequence number.
                    s.send(Stream.SYNC_OK, f.copy());
                    s.flush();
                    incoming.fullPassDone.countDown(); // the first sync ends the full pass: warm-ups may run now
                    incoming.endFavour();
                    // The next round (or the pause) follows within a round trip once the rounds are small.
                    s.awaitReadable(ROUND_SPIN_NANOS);
                } else if (f.type() == Stream.PREVIEW && finalState == null) {
                    // Decoded like the final state and checked on a background thread (class loading and the
                    // codec's first, interpreted runs happen there, not in the downtime and not in the way of the
                    // RAM stream), then decoded again until compiled; a problem fails the next round's sync.
                    byte[] copy = f.copy();
                    if (incoming.disks.begun() && incoming.flushThread == null) {
                        // The preview follows the bulk disk copy: write that back while RAM streams in.
                        incoming.flushThread = flushInBackground(incoming);
                    }
                    warmDecoder(copy, config, incoming);
                } else if (f.type() == Stream.PREPARE && finalState == null) {
                    if (incoming.previewProblem != null) {
                        throw new MigrationException("bad state preview: " + incoming.previewProblem);
                    }
                    // The pause follows: the build must be over first (else the downtime waits for it), warm-ups
                    // stop, and this JVM collects now rather than inside the downtime.
                    incoming.awaitBuild();
                    incoming.pausing = true;
                    incoming.fullPassDone.countDown();
                    incoming.gcNanos = Collector.collectYoung();
                    incoming.raisePriority();
                    s.send(Stream.SYNC_OK, f.copy());
                    s.flush();
                    s.awaitReadable(ROUND_SPIN_NANOS);
                } else if (f.type() == Stream.PAUSING && finalState == null) {
                    incoming.pausing = true;
                    incoming.raisePriority();
                    incoming.fullPassDone.countDown();
                    s.awaitReadable(PAUSE_SPIN_NANOS); // the state follows once the source's vCPUs stopped
                } else if (f.type() == Stream.STATE && finalState == null) {
                    long stateAt = System.nanoTime();
                    incoming.stateArrived = true;
                    incoming.fullPassDone.countDown();
                    phase = "device state";
                    if (incoming.disks.begun() && !incoming.disks.done()) {
                        throw new MigrationException("device state arrived before the disk copy ended");
                    }
                    incoming.mirrored.complete(java.util.Map.of());
                    // Decoded now, while the last pages are still arriving (they wait in the socket buffer).
                    finalState = checkState(Snapshots.decodeState(f.copy()), config);
                    incoming.stateAtNanos = stateAt;
                    incoming.decodeNanos = System.nanoTime() - stateAt;
                    phase = "last pages";
                } else if (f.type() == Stream.FINAL && finalState != null) {
                    // No deviceWrote(0, size) here: this RAM is fresh (dirty logging off, nothing translated yet
                    // since no vCPU of this machine ran), so there is nothing to invalidate.
                    incoming.pages = received;
                    incoming.bytes = bytes;
                    incoming.finalAtNanos = System.nanoTime();
                    // Everything is here and checked: READY now, so COMMIT travels while the caller applies the
                    // state (a failure there answers COMMIT with ERROR, and the source resumes).
                    Handover.ready(s);
                    incoming.readySent = true;
                    incoming.state.complete(finalState);
                    return incoming;
                } else {
                    throw new MigrationException("unexpected frame type " + f.type() + " during " + phase);
                }
            }
        } catch (IOException | RuntimeException e) {
            handshakeFavour.close();
            if (incoming != null) {
                incoming.close();
                incoming.discardDisks();
            } else if (mem != null && prepared.isEmpty()) {
                mem.close();
            }
            s.close();
            if (e instanceof MigrationException me) {
                throw me;
            }
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new MigrationException("incoming migration failed during " + phase + ": " + why, e);
        }
    }

    /**
     * Runs this receiver's hot path (frame read, CRC32C check, page apply) over a loopback connection inside this
     * process, until {@code stop} says so (the real source connected) or a budget is spent, so that a fresh runner
     * JVM meets the full RAM pass with compiled code instead of the bytecode interpreter. Call while waiting for
     * the source; best effort (any failure only loses the speed-up).
     */
    public static void warmUp(java.util.function.BooleanSupplier stop) {
        warmHandshake();
        Collector.warm();
        warmReceivePath(stop);
    }

    /**
     * What the answer to HELLO runs first in this JVM: the configuration codec and the priority calls (an
     * {@link Incoming} holds a {@link Priority} handle); cold, they delayed HELLO_OK by 50-180 ms on a loaded host,
     * with the source's pages waiting behind it. A runner runs it first thing while it listens (before its other
     * preloading, which can outlast the wait for the source).
     */
    public static void warmHandshake() {
        try {
            Priority.warm();
            MachineConfig c = new MachineConfig("warm-up", 16, 1, java.nio.file.Path.of("/warm-up"),
                    java.util.Optional.empty(), "", 0, java.util.List.of(), java.util.List.of(),
                    dev.domus.xen.api.CpuEngineKind.defaultKind());
            Snapshots.decodeConfig(Snapshots.encodeConfig(c));
        } catch (RuntimeException | LinkageError e) {
            // only a lost speed-up
        }
    }

    /** {@link #warmUp}; returns the page frames received and applied. */
    static int warmReceivePath(java.util.function.BooleanSupplier stop) {
        int applied = 0;
        final int perFrame = 64;
        final int scratchPages = 256;
        byte[] frame = new byte[4 + perFrame * (8 + PAGE)];
        ByteBuffer.wrap(frame, 0, 4).putInt(perFrame);
        for (int i = 0; i < perFrame; i++) {
            int at = 4 + i * (8 + PAGE);
            LONG_BE.set(frame, at, (long) ((i * 7) % scratchPages));
            Arrays.fill(frame, at + 8, at + 8 + PAGE, (byte) (i + 1));
        }
        long until = System.nanoTime() + WARM_UP_RECEIVE_NANOS;
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             Socket client = new Socket(java.net.InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept();
             Stream out = new Stream(client);
             Stream in = new Stream(accepted);
             GuestMemory scratch = GuestMemory.allocate(RAM_BASE, (long) scratchPages * PAGE)) {
            in.setTimeout(5_000);
            Thread sender = Thread.ofPlatform().daemon().name("warm-receive-sender").start(() -> {
                try {
                    // At least one frame unless stopped (a cold, loaded JVM may spend the budget on setting up).
                    for (int n = 0; !stop.getAsBoolean()
                            && (n == 0 || (n < WARM_UP_FRAMES && System.nanoTime() < until)); n++) {
                        out.send(Stream.PAGES, frame);
                    }
                    out.send(Stream.FINAL, new byte[0]);
                    out.flush();
                } catch (IOException e) {
                    // the receiving side closed: nothing more to warm
                }
            });
            MemorySegment seg = scratch.segment();
            while (true) {
                Stream.Frame f = in.receive();
                if (f.type() != Stream.PAGES) {
                    break;
                }
                applyPages(f, seg, scratchPages);
                applied++;
            }
            sender.join(5_000);
        } catch (IOException | RuntimeException e) {
            // only a lost speed-up
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return applied;
    }

    /**
     * Decodes and checks {@code preview} on a daemon thread (a problem is left in {@link Incoming#previewProblem}),
     * then decodes it again until compiled, the time is up or the state came.
     */
    private static void warmDecoder(byte[] preview, MachineConfig config, Incoming in) {
        Thread.ofPlatform().daemon().name("warm-state-decoder").start(() -> {
            try {
                in.preview.complete(checkState(Snapshots.decodeState(preview), config));
            } catch (RuntimeException e) {
                in.previewProblem = e.getMessage() == null ? e.toString() : e.getMessage();
                in.preview.completeExceptionally(e);
                return;
            }
            Collector.warm(); // for PREPARE's collection: the beans' first lookup is ~0.1 s of class loading
            // The repetitions (for the JIT) wait until the bulk of RAM is in: on two cores they would otherwise
            // slow the full pass; the dirty rounds leave the receiver mostly idle.
            in.awaitFullPass(Math.max(in.timeoutMillis, 1) * 10L);
            long until = System.nanoTime() + WARM_UP_NANOS;
            try {
                for (int i = 0; i < WARM_UP_DECODES && !in.pauseAnnounced() && System.nanoTime() < until; i++) {
                    Snapshots.decodeState(preview);
                }
            } catch (RuntimeException e) {
                // it decoded once above; a warm-up never fails the migration
            }
        });
    }

    /** Writes the bulk-copied images back on a daemon thread (best effort: DISK_DONE forces them anyway). */
    private static Thread flushInBackground(Incoming in) {
        java.util.List<java.nio.channels.FileChannel> channels;
        synchronized (in.disks) {
            channels = in.disks.channels();
        }
        // Not under the lock: the receiving thread keeps writing blocks meanwhile (force and positional writes
        // may run concurrently; a channel closed by a failed migration only ends this early).
        return Thread.ofPlatform().daemon().name("flush-mirrored-disks")
                .start(() -> DiskMirrorReceiver.flush(channels));
    }

    private static void diskFrame(Incoming in, Stream.Frame f) throws IOException {
        synchronized (in.disks) {
            switch (f.type()) {
                case Stream.DISK_BLOCK -> in.disks.block(f.copy());
                case Stream.DISK_BEGIN -> {
                    in.disks.begin(f.copy());
                    in.mirrored.complete(in.disks.images());
                }
                default -> in.disks.finish(); // DISK_DONE
            }
        }
    }

    /** The record components in which {@code offered} differs from {@code expected}, for a refusal. */
    static String configDifferences(MachineConfig expected, MachineConfig offered) {
        java.util.List<String> d = new java.util.ArrayList<>();
        try {
            for (java.lang.reflect.RecordComponent c : MachineConfig.class.getRecordComponents()) {
                Object e = c.getAccessor().invoke(expected);
                Object o = c.getAccessor().invoke(offered);
                if (!java.util.Objects.equals(e, o)) {
                    d.add(c.getName() + " " + o + " (target: " + e + ")");
                }
            }
        } catch (ReflectiveOperationException e) {
            return "(" + e + ")";
        }
        return d.isEmpty() ? "(equal fields, unequal records)" : String.join("; ", d);
    }

    private static MachineState checkState(MachineState state, MachineConfig config) {
        if (!state.config().equals(config)) {
            throw new MigrationException("device state is for another configuration than the HELLO");
        }
        return state;
    }

    /** Copies one page frame into RAM, every index checked; returns the number of pages. */
    private static int applyPages(Stream.Frame f, MemorySegment seg, long pages) {
        byte[] payload = f.payload();
        int len = f.length();
        if (len < 4) {
            throw new MigrationException("page frame of " + len + " bytes has no count");
        }
        int n = ByteBuffer.wrap(payload, 0, 4).getInt();
        if (n < 1 || (long) n * (8 + PAGE) + 4 != len) {
            throw new MigrationException("page frame says " + n + " pages in " + len + " bytes");
        }
        int at = 4;
        for (int i = 0; i < n; i++) {
            long idx = (long) LONG_BE.get(payload, at);
            if (idx < 0 || idx >= pages) {
                throw new MigrationException("page index " + idx + " is outside RAM (" + pages + " pages)");
            }
            MemorySegment.copy(payload, at + 8, seg, ValueLayout.JAVA_BYTE, idx * PAGE, PAGE);
            at += 8 + PAGE;
        }
        return n;
    }

    private static byte[] chunk(ByteBuffer b, int max, String what) {
        if (b.remaining() < 4) {
            throw new MigrationException("HELLO ends before the " + what);
        }
        int n = b.getInt();
        if (n < 0 || n > max || n > b.remaining()) {
            throw new MigrationException("HELLO " + what + " length " + n + " is invalid");
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }
}
