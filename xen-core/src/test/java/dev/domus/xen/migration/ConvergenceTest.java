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
        assertThat(c.next(0, 4096, 4096, 0).action()).isEqualTo(Convergence.Action.CONTINUE);
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
        Convergence.Decision d = c.next(3, 100_000, 100_000, 400_000); // 1 ms + 0.5 ms
        assertThat(d.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(d.forced()).isFalse();
        assertThat(d.estimateMicros()).isEqualTo(1_500);
        assertThat(c.next(3, 200_000, 200_000, 400_000).action()).isEqualTo(Convergence.Action.CONTINUE);
    }

    @Test
    void stopsWhenOnlyTheFixedPartExceedsTheTarget() {
        Convergence c = new Convergence(2_000, 30, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        c.fixedCost(5_000); // e.g. a loaded host: encoding alone takes longer than the target
        Convergence.Decision d = c.next(1, 40_000, 40_000, MB); // 0.4 ms of pages: rounds cannot help any more
        assertThat(d.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(d.fixedBound()).isTrue();
        assertThat(d.forced()).isFalse();
        assertThat(d.estimateMicros()).isEqualTo(5_400);
        assertThat(c.next(1, 100_000, 100_000, MB).action()).as("1 ms of pages: a round still helps")
                .isEqualTo(Convergence.Action.CONTINUE);
    }

    @Test
    void aGuestDirtyingFasterThanHalfTheSendRateIsThrottledStepByStepThenForced() {
        Convergence c = new Convergence(1_000, 30, 2, 20);
        c.sample(100 * MB, 1_000_000_000L);
        assertThat(c.capPercent()).isEqualTo(200);
        long sent = 10 * MB;
        long dirty = 6 * MB; // 60 % dirtied again: not converging
        // round 0 (full RAM) never counts as hot
        assertThat(c.next(0, dirty, dirty, 256 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(1, dirty, dirty, sent).action()).isEqualTo(Convergence.Action.CONTINUE);
        Convergence.Decision t1 = c.next(2, dirty, dirty, sent);
        assertThat(t1.action()).isEqualTo(Convergence.Action.THROTTLE);
        assertThat(t1.capPercent()).isEqualTo(100);
        assertThat(c.next(3, dirty, dirty, sent).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(4, dirty, dirty, sent).capPercent()).isEqualTo(50);
        c.next(5, dirty, dirty, sent);
        assertThat(c.next(6, dirty, dirty, sent).capPercent()).isEqualTo(25);
        c.next(7, dirty, dirty, sent);
        Convergence.Decision floor = c.next(8, dirty, dirty, sent);
        assertThat(floor.action()).isEqualTo(Convergence.Action.THROTTLE);
        assertThat(floor.capPercent()).isEqualTo(20);
        for (int i = 0; i < Convergence.FORCED_ROUNDS; i++) {
            Convergence.Decision d = c.next(9 + i, dirty, dirty, sent);
            assertThat(d.action()).as("round at the floor %d", i).isEqualTo(Convergence.Action.CONTINUE);
        }
        Convergence.Decision forced = c.next(20, dirty, dirty, sent);
        assertThat(forced.action()).isEqualTo(Convergence.Action.STOP);
        assertThat(forced.forced()).isTrue();
        assertThat(forced.estimateMicros()).isGreaterThan(1_000);
    }

    @Test
    void aConvergingGuestIsNotThrottledUntilMaxRounds() {
        Convergence c = new Convergence(1_000, 3, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        long sent = 10 * MB;
        long dirty = 4 * MB; // 40 %: converging, but never below the target
        assertThat(c.next(1, dirty, dirty, sent).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(2, dirty, dirty, sent).action()).isEqualTo(Convergence.Action.CONTINUE);
        Convergence.Decision d = c.next(3, dirty, dirty, sent);
        assertThat(d.action()).isEqualTo(Convergence.Action.THROTTLE);
        assertThat(d.capPercent()).isEqualTo(50);
    }

    @Test
    void oneHotRoundAloneDoesNotThrottle() {
        Convergence c = new Convergence(1_000, 30, 1, 20);
        c.sample(100 * MB, 1_000_000_000L);
        assertThat(c.next(1, 6 * MB, 6 * MB, 10 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(2, 2 * MB, 2 * MB, 10 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
        assertThat(c.next(3, 6 * MB, 6 * MB, 10 * MB).action()).isEqualTo(Convergence.Action.CONTINUE);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new Convergence(0, 30, 1, 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Convergence(1, 0, 1, 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Convergence(1, 1, 0, 20)).isInstanceOf(IllegalArgumentException.class);
    }
}
