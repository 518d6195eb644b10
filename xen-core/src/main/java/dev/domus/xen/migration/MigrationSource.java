// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.memory.DirtyLog;
import dev.domus.xen.memory.GuestMemory;
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
 * <p>Phases: handshake, full RAM (zero pages skipped: the target's RAM starts zeroed), dirty rounds until the
 * dirty remainder fits {@link Options#downtimeMillis()} at the bandwidth measured in the previous round (after
 * {@link Options#maxRounds()} the vCPUs are throttled for a few more rounds), pause, last pages and device state,
 * then the READY / COMMIT / DONE hand-over ({@link Handover}). Any failure before COMMIT turns dirty logging off,
 * lifts the throttle and resumes the guest, so the source keeps running and only one copy ever runs; a failure
 * after COMMIT leaves the guest paused ({@link MigrationException#inDoubt()}).
 */
public final class MigrationSource {
    private static final int PAGE = (int) GuestMemory.PAGE_SIZE;
    private static final int PAGES_PER_FRAME = 255;
    private static final int THROTTLE_ROUNDS = 5;
    private static final MemorySegment ZERO_PAGE = MemorySegment.ofArray(new byte[PAGE]);

    /**
     * @param downtimeMillis  target downtime (pause to ACK) used to decide when to stop and copy
     * @param maxRounds       dirty rounds before the vCPUs are throttled
     * @param throttlePercent cpu cap while throttled (percent of one core over all vCPUs)
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

    /** Receives progress; called on the migration thread, must not block for long. */
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
    private long pagesSent;

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
        GuestMemory ram = machine.memory();
        boolean paused = false;
        boolean logging = false;
        boolean throttled = false;
        boolean committed = false;
        String phase = "connect";
        Socket socket = new Socket();
        DiskMirror mirror = DiskMirror.of(machine.disks(), mirrorDisks);
        try (Stream s = new Stream(connect(socket, target))) {
            phase = "handshake";
            s.setTimeout(options.connectMillis());
            byte[] helloOk = handshake(s);
            s.setTimeout(options.ackMillis());
            if (mirror.active()) {
                DiskMirror.requireTargetAccepts(helloOk);
                phase = "disk copy";
                mirror.bulk(s, cancelled::get);
            }
            phase = "full RAM";
            machine.pause();
            log.setEnabled(true);
            logging = true;
            machine.resume();
            long roundStart = System.nanoTime();
            long before = s.bytesOut();
            sendAllNonZero(s, ram);
            long bw = bandwidth(s.bytesOut() - before, roundStart);
            long[] dirty = new long[log.words()];
            int round = 0;
            phase = "dirty rounds";
            while (true) {
                checkCancelled();
                long remaining = fetch(log, dirty);
                listener.progress(new Progress(round, s.bytesOut(), pagesSent, remaining, bw, throttled));
                long estimateMicros = bw <= 0 ? Long.MAX_VALUE : remaining * PAGE * 1_000_000L / bw;
                if (estimateMicros <= options.downtimeMillis() * 1000L
                        || round >= options.maxRounds() + THROTTLE_ROUNDS) {
                    break;
                }
                if (round >= options.maxRounds() && !throttled) {
                    machine.setCpuCap(options.throttlePercent());
                    throttled = true;
                }
                round++;
                roundStart = System.nanoTime();
                before = s.bytesOut();
                sendPages(s, ram, dirty);
                bw = bandwidth(s.bytesOut() - before, roundStart);
            }
            checkCancelled();
            if (mirror.active()) {
                mirror.round(s); // what the guest wrote during the RAM rounds, while it still runs
            }
            phase = "stop-and-copy";
            long pauseAt = System.nanoTime();
            machine.pause();
            paused = true;
            if (mirror.active()) {
                mirror.finish(s);
            }
            long[] last = new long[dirty.length];
            fetch(log, last);
            for (int i = 0; i < last.length; i++) {
                dirty[i] |= last[i];
            }
            long finalPages = 0;
            for (long w : dirty) {
                finalPages += Long.bitCount(w);
            }
            sendPages(s, ram, dirty);
            s.send(Stream.STATE, Snapshots.encodeState(machine.captureState(domain)));
            s.flush();
            long sentAt = System.nanoTime();
            phase = "waiting for the target's READY";
            Handover.awaitReady(s);
            phase = "sending COMMIT";
            Handover.commit(s);
            committed = true;
            phase = "waiting for the target's DONE";
            Handover.awaitDone(s);
            long downtime = (System.nanoTime() - pauseAt) / 1000;
            System.getLogger(MigrationSource.class.getName()).log(System.Logger.Level.INFO,
                    "event=migration_stop_copy pause_to_sent_us=" + (sentAt - pauseAt) / 1000 + " sent_to_ack_us="
                            + (System.nanoTime() - sentAt) / 1000 + " final_pages=" + finalPages);
            log.setEnabled(false);
            mirror.stop();
            return new Result(round + 1, s.bytesOut(), pagesSent, downtime, (System.nanoTime() - t0) / 1_000_000,
                    finalPages);
        } catch (IOException | RuntimeException e) {
            mirror.stop();
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
            machine.resume();
            if (e instanceof MigrationException me && phase.equals("dirty rounds") && cancelled.get()) {
                throw me;
            }
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new MigrationException("migration failed during " + phase + ": " + why, e);
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

    /** Returns the payload of the target's HELLO_OK (its capability flags). */
    private byte[] handshake(Stream s) throws IOException {
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
        Stream.Frame reply = s.receive();
        if (reply.type() == Stream.ERROR) {
            throw new MigrationException("target refused: " + new String(reply.payload(),
                    java.nio.charset.StandardCharsets.UTF_8));
        }
        if (reply.type() != Stream.HELLO_OK) {
            throw new MigrationException("unexpected handshake reply type " + reply.type());
        }
        return reply.payload();
    }

    private static long bandwidth(long bytes, long startNanos) {
        long ns = Math.max(1, System.nanoTime() - startNanos);
        return bytes * 1_000_000_000L / ns;
    }

    private static long fetch(DirtyLog log, long[] into) {
        long n = 0;
        for (int w = 0; w < into.length; w++) {
            into[w] = log.fetchAndClear(w);
            n += Long.bitCount(into[w]);
        }
        return n;
    }

    private void sendAllNonZero(Stream s, GuestMemory ram) throws IOException {
        MemorySegment seg = ram.segment();
        long pages = ram.size() / PAGE;
        int n = 0;
        for (long p = 0; p < pages; p++) {
            if ((p & 4095) == 0) {
                checkCancelled();
            }
            if (seg.asSlice(p * PAGE, PAGE).mismatch(ZERO_PAGE) == -1) {
                continue;
            }
            n = add(s, seg, p, n);
        }
        flushPages(s, n);
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
        ByteBuffer.wrap(frame, at, 8).putLong(page);
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
        ByteBuffer.wrap(frame, 0, 4).putInt(n);
        s.send(Stream.PAGES, frame, 0, 4 + n * (8 + PAGE));
    }
}
