// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ConvergenceTest {
    private static final long MB = 1_000_000L;

    @Test
    void noBandwidthYetNeverStops() {
        Convergence c = new Convergence(5_000, 30, 1, 20);
        assertThat(c.bandwidth()).isZero();
        assertThat(c.estimateMicros(1)).isEqualTo(Long.MAX_VALUE);
        assertThat(c.next(0, 4096).action()).isEqualTo(Convergence.Action.CONTINUE);
    }

    @Test
    void estimateIsFixedCostPlusBytesOverBandwidth() {
        Convergence c = new Convergence(5_000, 30, 1, 20);
        c.sample(100 * MB, 1_000_000_000L); // 100 MB/s
        c.fixedCost(700);
        assertThat(c.bandwidth()).isEqualTo(100 * MB);
        // 1 MB at 100 MB/s = 10 ms, plus 0.7 ms fixed
        assertThat(c.estimateMicros(MB)).isEqualTo(10_700);
        assertThat(c.estimateMicros(0)).isEqualTo(700);
        c.roundTrip(300_000);
        c.roundTrip(900_000);
        assertThat(c.rttMicros()).as("the smallest round trip").isEqualTo(300);
        assertThat(c.estimateMicros(MB)).isEqualTo(11_000);
    }

    @Test
    void bigRoundsDominateTheBandwidthAndSmallRoundsOnlyMeasureTheRoundTrip() {
        Convergence c = new Convergence(5_000, 30, 1, 20);
        c.sample(200 * MB, 1_000_000_000L); // 200 MB/s over a big round
        c.sample(8_192, 1_000_000L);         // a tiny round: its time is the round trip
        assertThat(c.bandwidth()).isEqualTo(200 * MB);
        assertThat(c.rttMicros()).isEqualTo(1_000);
        // the next big round: transfer time = round time - round trip; the old round counts half
        c.sample(100 * MB, 501_000_000L);
        assertThat(c.bandwidth()).as("(0.5*200 + 100) MB / (0.5*1 + 0.5) s").isEqualTo(200 * MB);
        c.sample(100 * MB, 2_001_000_000L);
        assertThat(c.bandwidth()).as("(0.25*200 + 0.5*100 + 100) MB / (0.25 + 0.25 + 2) s").isEqualTo(80 * MB);
        Convergence fresh = new Convergence(5_000, 30, 1, 20);
        fresh.sample(8_192, 1_000_000L);
        assertThat(fresh.bandwidth()).as("no bandwidth from round trips alone").isZero();
        fresh.sample(-1, 5);
        fresh.sample(5 * MB, 0);
        assertThat(fresh.bandwidth()).isZero();
    }

    @Test
    void stopsWhenTheEstimateFitsTheTarget() {
        Convergence c = new Convergence(2_000, 30, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        c.fixedCost(500);
        Convergence.Decision d = c.next(3, 100_000); // 1 ms + 0.5 ms
        assertThat(d.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(d.forced()).isFalse();
        assertThat(d.estimateMicros()).isEqualTo(1_500);
        Convergence other = new Convergence(2_000, 30, 1, 20);
        other.sample(100 * MB, 1_000_000_000L);
        other.fixedCost(500);
        assertThat(other.next(0, 200_000).action()).isEqualTo(Convergence.Action.CONTINUE);
    }

    @Test
    void aFittingRemainderThatStillShrinksGetsAFewMoreRoundsTowardsTheAim() {
        Convergence c = new Convergence(5_000, 30, 1, 20);
        c.sample(100 * MB, 1_000_000_000L); // 100 bytes per microsecond
        c.fixedCost(200);
        assertThat(c.next(0, 2_000_000).action()).isEqualTo(Convergence.Action.CONTINUE); // 20 ms of pages
        // 4 ms of pages fits 5 ms, but the remainder fell from 20 ms: another round is worth it.
        assertThat(c.next(1, 400_000).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(2, 200_000).action()).isEqualTo(Convergence.Action.CONTINUE);
        // 0.5 ms of pages is below an eighth of the target: stop.
        assertThat(c.next(3, 50_000).action()).isEqualTo(Convergence.Action.STOP);

        Convergence stalled = new Convergence(5_000, 30, 1, 20);
        stalled.sample(100 * MB, 1_000_000_000L);
        assertThat(stalled.next(0, 2_000_000).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(stalled.next(1, 400_000).action()).isEqualTo(Convergence.Action.CONTINUE);
        // Not shrinking any more (above 80 % of the last): stop at once, more rounds would not help.
        assertThat(stalled.next(2, 380_000).action()).isEqualTo(Convergence.Action.STOP);

        Convergence bounded = new Convergence(5_000, 30, 1, 20);
        bounded.sample(100 * MB, 1_000_000_000L);
        bounded.next(0, 4_000_000);
        long left = 400_000;
        int extra = 0;
        while (bounded.next(1 + extra, left).action() == Convergence.Action.CONTINUE) {
            extra++;
            left = left * 7 / 10;
        }
        assertThat(extra).as("extra rounds, bounded").isEqualTo(Convergence.EXTRA_ROUNDS);
    }

    @Test
    void keepsIteratingWhileRoundsShrinkEvenWhenTheFixedPartAloneExceedsTheTarget() {
        Convergence c = new Convergence(2_000, 30, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        c.fixedCost(5_000); // e.g. a loaded host: encoding alone takes longer than the target
        // 0.4 ms of pages after the full pass, then 0.2 ms: each round still halves the remainder
        assertThat(c.next(0, 40_000).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(1, 20_000).action()).isEqualTo(Convergence.Action.CONTINUE);
        // no longer shrinking and the page part is small: more rounds cannot help, stop (fixed part dominates)
        Convergence.Decision d = c.next(2, 19_000);
        assertThat(d.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(d.fixedBound()).isTrue();
        assertThat(d.forced()).isFalse();
        assertThat(d.estimateMicros()).isEqualTo(5_190);
    }

    @Test
    void aStalledRemainderWithABigPagePartIsThrottledStepByStepThenForced() {
        Convergence c = new Convergence(1_000, 30, 2, 20);
        c.sample(100 * MB, 1_000_000_000L);
        assertThat(c.capPercent()).isEqualTo(200);
        long dirty = 6 * MB; // 60 ms of pages, the same every round: not converging
        assertThat(c.next(0, dirty).action()).as("after the full pass").isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(1, dirty).action()).as("one stalled round").isEqualTo(Convergence.Action.CONTINUE);
        Convergence.Decision t1 = c.next(2, dirty);
        assertThat(t1.action()).isEqualTo(Convergence.Action.THROTTLE);
        assertThat(t1.capPercent()).isEqualTo(100);
        assertThat(c.next(3, dirty).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(4, dirty).capPercent()).isEqualTo(50);
        c.next(5, dirty);
        assertThat(c.next(6, dirty).capPercent()).isEqualTo(25);
        c.next(7, dirty);
        Convergence.Decision floor = c.next(8, dirty);
        assertThat(floor.action()).isEqualTo(Convergence.Action.THROTTLE);
        assertThat(floor.capPercent()).isEqualTo(20);
        for (int i = 0; i < Convergence.FORCED_ROUNDS; i++) {
            Convergence.Decision d = c.next(9 + i, dirty);
            assertThat(d.action()).as("round at the floor %d", i).isEqualTo(Convergence.Action.CONTINUE);
        }
        Convergence.Decision forced = c.next(20, dirty);
        assertThat(forced.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(forced.forced()).isTrue();
        assertThat(forced.estimateMicros()).isGreaterThan(1_000);
    }

    @Test
    void aShrinkingGuestIsNotThrottledUntilMaxRounds() {
        Convergence c = new Convergence(1_000, 3, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        assertThat(c.next(1, 40 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(2, 20 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        Convergence.Decision d = c.next(3, 10 * MB);
        assertThat(d.action()).as("max_rounds reached with a big remainder").isEqualTo(Convergence.Action.THROTTLE);
        assertThat(d.capPercent()).isEqualTo(50);
    }

    @Test
    void oneStalledRoundAloneDoesNotThrottle() {
        Convergence c = new Convergence(1_000, 30, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        assertThat(c.next(0, 6 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(1, 6 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(2, 2 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(3, 6 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.capPercent()).isEqualTo(100);
    }

    @Test
    void aStalledPagePartNoBiggerThanTheFixedPartStopsInsteadOfThrottling() {
        Convergence c = new Convergence(5_000, 30, 1, 20);
        c.sample(30 * MB, 1_000_000_000L); // 30 MB/s: a loaded host
        c.fixedCost(1_000);
        c.roundTrip(20_000_000L); // 20 ms round trips
        // 120 KB = 4 ms of pages: above a quarter of the target, below fixed + round trip (21 ms)
        assertThat(c.next(0, 120_000).action()).isEqualTo(Convergence.Action.CONTINUE);
        Convergence.Decision d = c.next(1, 120_000);
        assertThat(d.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(d.fixedBound()).isTrue();
        assertThat(c.capPercent()).as("never throttled").isEqualTo(100);
    }

    @Test
    void anEmptyRemainderDoesNotCountAsShrinkingForever() {
        Convergence c = new Convergence(1_000, 1000, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        c.fixedCost(3_000); // above the target even with no pages at all
        assertThat(c.next(0, 0).action()).isEqualTo(Convergence.Action.CONTINUE);
        Convergence.Decision d = c.next(1, 0);
        assertThat(d.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(d.fixedBound()).isTrue();
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new Convergence(0, 30, 1, 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Convergence(1, 0, 1, 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Convergence(1, 1, 0, 20)).isInstanceOf(IllegalArgumentException.class);
    }
}
