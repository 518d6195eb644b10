// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

/**
 * The pre-copy convergence decision, kept free of I/O so it can be tested on its own.
 *
 * <p>The downtime of a stop-and-copy is modelled as {@code fixed + rtt + bytes / bandwidth}: {@code fixed} is what
 * the source measured for the parts that do not depend on the dirty set (capturing and encoding the device state),
 * {@code rtt} the smallest sync round trip seen, {@code bandwidth} the end-to-end rate of the recent rounds. Every
 * round ends with a sync the target answers only after it applied everything before it, so a round's time is
 * {@code rtt + bytes / bandwidth} until the target had the bytes, not the time to fill socket buffers. Rounds of
 * less than {@link #MIN_SAMPLE_BYTES} are round-trip samples only (their time is mostly the round trip); bigger
 * ones are combined as a byte-weighted ratio (sum of bytes over sum of transfer time, older rounds decaying by half
 * per sample), so the big rounds set the estimate.
 *
 * <p>After each round: stop when the estimate fits the target, unless the rounds still shrink and the page part is
 * more than {@link #AIM_FRACTION} of the target: then up to {@link #EXTRA_ROUNDS} more rounds (each costs a round
 * trip and a few pages, off the downtime) bring the remainder down further, since the target is a ceiling, not an
 * aim. Otherwise keep going while the rounds shrink (the
 * remainder fell to at most {@link #SHRINK} of the one before: a shorter round leaves fewer pages dirty, so the
 * next stop is cheaper). Once the remainder stops shrinking it is at its floor for this dirty rate: if its page part
 * is already small (at most a quarter of the target, or no more than the fixed part plus the round trip: the fixed
 * part dominates, e.g. on a loaded host, and more rounds cannot help) the copy stops, and the decision says so;
 * otherwise the guest dirties about as fast as we
 * send, and after {@link #STALLED_ROUNDS} such rounds (or after {@code maxRounds}) the vCPUs are throttled,
 * halving their cap each time down to {@code minCapPercent}; {@link #FORCED_ROUNDS} rounds at the lowest cap later
 * the copy stops regardless and the downtime may exceed the target (the result says by how much).
 */
final class Convergence {
    /** Rounds at the lowest throttle before stop-and-copy is forced. */
    static final int FORCED_ROUNDS = 5;
    private static final double DECAY = 0.5;
    /** Rounds smaller than this only measure the round trip. */
    static final long MIN_SAMPLE_BYTES = 64 * 1024;
    /** A round "shrinks" when its remainder is at most this fraction of the previous round's. */
    static final double SHRINK = 0.8;
    /** Non-shrinking rounds in a row (with a big page part) before the vCPUs are throttled. */
    static final int STALLED_ROUNDS = 2;

    /** Rounds beyond the first one whose estimate fits, while the remainder keeps shrinking. */
    static final int EXTRA_ROUNDS = 3;
    /** A page part at most this fraction of the target needs no extra round. */
    static final double AIM_FRACTION = 0.125;

    /** What the source does after a round. */
    enum Action { CONTINUE, THROTTLE, STOP }

    /**
     * @param action         what to do next
     * @param capPercent     the vCPU cap to apply with {@link Action#THROTTLE} (percent of one core over all vCPUs)
     * @param estimateMicros the modelled downtime of stopping now
     * @param forced         STOP although the estimate exceeds the target: the throttle did not help
     * @param fixedBound     STOP although the estimate exceeds the target: the fixed part alone is too big
     */
    record Decision(Action action, int capPercent, long estimateMicros, boolean forced, boolean fixedBound) {
        Decision(Action action, int capPercent, long estimateMicros) {
            this(action, capPercent, estimateMicros, false, false);
        }
    }

    private final long targetMicros;
    private final int maxRounds;
    private final int minCapPercent;
    private final int fullCapPercent;
    private double weightedBytes;
    private double weightedNanos;
    private long fixedMicros;
    private long rttNanos = Long.MAX_VALUE;
    private int capPercent;
    private int stalledRounds;
    private int roundsAtFloor;
    private int extraRounds;
    /** Remainder after the previous decision; {@code Long.MAX_VALUE} before the first. */
    private long lastRemaining = Long.MAX_VALUE;

    /**
     * @param targetMicros  downtime target
     * @param maxRounds     rounds before throttling starts regardless of the dirty rate
     * @param vcpus         vCPUs of the machine (an unthrottled machine may use 100 % per vCPU)
     * @param minCapPercent lowest cap the throttle goes to
     */
    Convergence(long targetMicros, int maxRounds, int vcpus, int minCapPercent) {
        if (targetMicros < 1 || maxRounds < 1 || vcpus < 1 || minCapPercent < 1) {
            throw new IllegalArgumentException("target, rounds, vcpus and cap must be positive, got " + targetMicros
                    + ", " + maxRounds + ", " + vcpus + ", " + minCapPercent);
        }
        this.targetMicros = targetMicros;
        this.maxRounds = maxRounds;
        this.fullCapPercent = 100 * vcpus;
        this.minCapPercent = Math.min(minCapPercent, fullCapPercent);
        this.capPercent = fullCapPercent;
    }

    /**
     * One end-to-end transfer: {@code bytes} were applied by the target {@code nanos} after the first was sent
     * (including the sync's round trip).
     */
    void sample(long bytes, long nanos) {
        if (nanos <= 0 || bytes < 0) {
            return;
        }
        if (bytes < MIN_SAMPLE_BYTES) {
            roundTrip(nanos);
            return;
        }
        long rtt = rttNanos == Long.MAX_VALUE ? 0 : rttNanos;
        long transfer = Math.max(nanos - rtt, nanos / 10);
        weightedBytes = weightedBytes * DECAY + bytes;
        weightedNanos = weightedNanos * DECAY + transfer;
    }

    /** A sync round trip with (almost) nothing before it. */
    void roundTrip(long nanos) {
        if (nanos > 0) {
            rttNanos = Math.min(rttNanos, nanos);
        }
    }

    /** The smallest round trip seen, in microseconds (0 before any). */
    long rttMicros() {
        return rttNanos == Long.MAX_VALUE ? 0 : rttNanos / 1000;
    }

    /** The part of the downtime that depends neither on the pages nor on the round trip, as measured. */
    void fixedCost(long micros) {
        fixedMicros = Math.max(0, micros);
    }

    /** Estimated bytes per second, or 0 before the first sample. */
    long bandwidth() {
        return weightedNanos <= 0 ? 0 : (long) (weightedBytes * 1e9 / weightedNanos);
    }

    long fixedMicros() {
        return fixedMicros;
    }

    /** The current vCPU cap in percent (100 per vCPU when not throttled). */
    int capPercent() {
        return capPercent;
    }

    /** Modelled downtime of a stop-and-copy of {@code bytes}; {@link Long#MAX_VALUE} without a bandwidth. */
    long estimateMicros(long bytes) {
        long bw = bandwidth();
        if (bw <= 0) {
            return Long.MAX_VALUE;
        }
        return fixedMicros + rttMicros() + variableMicros(bytes, bw);
    }

    private static long variableMicros(long bytes, long bw) {
        return (long) (bytes * 1e6 / bw);
    }

    /**
     * Decides after {@code round} (0 = the full RAM pass).
     *
     * @param remainingBytes bytes the dirty pages would take on the wire now
     */
    Decision next(int round, long remainingBytes) {
        long previous = lastRemaining;
        lastRemaining = remainingBytes;
        long estimate = estimateMicros(remainingBytes);
        if (estimate <= targetMicros) {
            boolean stillShrinking = round > 0 && previous != Long.MAX_VALUE
                    && remainingBytes < (long) (previous * SHRINK);
            boolean bigPagePart = variableMicros(remainingBytes, bandwidth()) > targetMicros * AIM_FRACTION;
            if (stillShrinking && bigPagePart && extraRounds < EXTRA_ROUNDS) {
                extraRounds++;
                return new Decision(Action.CONTINUE, capPercent, estimate);
            }
            return new Decision(Action.STOP, capPercent, estimate);
        }
        // The full pass always "shrinks" (it is all of RAM); after it, a remainder above SHRINK of the last one
        // means another round costs about as much as it saves.
        boolean shrinking = round == 0 || remainingBytes < (long) (previous * SHRINK);
        // Small: a quarter of the target, or no more than the fixed part (state + round trip), which no round can
        // shrink: stopping then costs at most twice the unavoidable part (a loaded host, a slow link).
        long pagePart = estimate == Long.MAX_VALUE ? Long.MAX_VALUE : variableMicros(remainingBytes, bandwidth());
        boolean smallPagePart = pagePart != Long.MAX_VALUE
                && (pagePart * 4 <= targetMicros || pagePart <= fixedMicros + rttMicros());
        if (shrinking && round < maxRounds) {
            stalledRounds = 0;
            return new Decision(Action.CONTINUE, capPercent, estimate);
        }
        if (smallPagePart) {
            return new Decision(Action.STOP, capPercent, estimate, false, true);
        }
        if (capPercent <= minCapPercent) {
            roundsAtFloor++;
            if (roundsAtFloor > FORCED_ROUNDS) {
                return new Decision(Action.STOP, capPercent, estimate, true, false);
            }
            return new Decision(Action.CONTINUE, capPercent, estimate);
        }
        stalledRounds = shrinking ? 0 : stalledRounds + 1;
        if (stalledRounds >= STALLED_ROUNDS || round >= maxRounds) {
            stalledRounds = 0;
            capPercent = Math.max(minCapPercent, capPercent / 2);
            return new Decision(Action.THROTTLE, capPercent, estimate);
        }
        return new Decision(Action.CONTINUE, capPercent, estimate);
    }
}
