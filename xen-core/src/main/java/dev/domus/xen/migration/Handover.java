// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The end of a migration, after the source sent the device state: a three-step hand-over that never lets two
 * copies of the guest run.
 *
 * <ol>
 *   <li>target -> source {@code READY}: the machine is built on the target and paused;</li>
 *   <li>source -> target {@code COMMIT}: the source lets go (its guest stays paused from now on);</li>
 *   <li>the target resumes the guest only after it read {@code COMMIT}, then answers {@code DONE}; the source ends
 *       its copy on {@code DONE}.</li>
 * </ol>
 *
 * <p>{@code READY} is sent as soon as every byte of the stop-and-copy is in and the device state decoded; the
 * target applies the state while {@code COMMIT} travels, so the round trip and both sides' wake-ups overlap with
 * that work instead of adding to it. A target that then cannot run the guest (applying the state failed) answers
 * {@code COMMIT} with {@code ERROR} instead of {@code DONE} and discards its copy: the source resumes on that.
 * The waits for READY and COMMIT spin briefly before they block ({@link Stream#awaitReadable}); the frames are one
 * write each (the stream's buffer, flushed per frame, with TCP_NODELAY).
 *
 * <p>Before {@code COMMIT} left the source, any failure resumes the source and the target discards its copy (it
 * never saw {@code COMMIT}, so it never runs). A write of the 9-byte COMMIT frame that fails was not handed to
 * the kernel, so the target cannot have read a whole, checksummed COMMIT: that failure is still "before". The one
 * window that cannot be closed (two generals): the connection breaks after COMMIT was written and before DONE was
 * read. The source cannot know whether the target read COMMIT, so it keeps the guest <em>paused</em> and reports
 * the migration as in doubt; the target wins if it read COMMIT (it runs the guest), otherwise neither runs until
 * an operator or the host agent looks at the target and then destroys or unpauses the source. Availability is
 * given up in that window, never uniqueness.
 */
final class Handover {
    private static final byte[] EMPTY = new byte[0];
    /** How long the source spins for READY (the target applies the last pages first): bounded, then it blocks. */
    static final long SOURCE_SPIN_NANOS = 2_000_000L;
    /** How long the target spins for COMMIT after READY: a round trip plus the source's turn-around. */
    static final long TARGET_SPIN_NANOS = 1_000_000L;

    private Handover() {
    }

    /** Loads and initialises this class (and the exception it throws) before the downtime; does nothing else. */
    static void warm() {
        MigrationException.class.getName();
        java.util.Optional.of("warm").isPresent();
    }

    /** Source: waits for READY (or the target's refusal). */
    static void awaitReady(Stream s) throws IOException {
        s.awaitReadable(SOURCE_SPIN_NANOS);
        expect(s, Stream.READY, "READY");
    }

    /** Source: sends COMMIT; once this returns the source must not resume its guest on its own. */
    static void commit(Stream s) throws IOException {
        s.send(Stream.COMMIT, EMPTY);
        s.flush();
    }

    /**
     * Source: waits for DONE after COMMIT. Returns the target's refusal when it answered {@code ERROR} instead: it
     * read COMMIT, cannot run the guest and discarded its copy, so the source may resume. Anything else (EOF,
     * timeout, another frame) throws and leaves the source in doubt.
     */
    static java.util.Optional<String> awaitDone(Stream s) throws IOException {
        // No spin: DONE is past the guest's downtime (the target sends it after its vCPUs run), and a spinning
        // source would take a core from the target applying the state and releasing them.
        Stream.Frame f = s.receive();
        if (f.type() == Stream.DONE) {
            return java.util.Optional.empty();
        }
        if (f.type() == Stream.ERROR) {
            return java.util.Optional.of(f.text());
        }
        throw new MigrationException("unexpected frame type " + f.type() + " instead of DONE");
    }

    /** Target: tells the source the machine is built and paused here. */
    static void ready(Stream s) throws IOException {
        s.send(Stream.READY, EMPTY);
        s.flush();
    }

    /** Target: waits for COMMIT; anything else (EOF, timeout, another frame) means the guest must not run here. */
    static void awaitCommit(Stream s) throws IOException {
        s.awaitReadable(TARGET_SPIN_NANOS);
        expect(s, Stream.COMMIT, "COMMIT");
    }

    /**
     * Receives one frame and fails unless it has {@code type}: an {@code ERROR} frame is the peer's refusal and
     * its text goes into the message, anything else is a protocol violation. EOF and timeouts surface as the
     * stream's {@link IOException}.
     */
    static void expect(Stream s, int type, String name) throws IOException {
        Stream.Frame f = s.receive();
        if (f.type() == type) {
            return;
        }
        if (f.type() == Stream.ERROR) {
            throw new MigrationException("peer refused (waiting for " + name + "): " + f.text());
        }
        throw new MigrationException("unexpected frame type " + f.type() + " instead of " + name);
    }

    /** Target: tells the source the guest runs here (best effort: the target runs it whether or not DONE arrives). */
    static boolean done(Stream s) {
        try {
            s.send(Stream.DONE, EMPTY);
            s.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
