// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The target's pre-connection warm-up of its receive path: it really receives and applies frames, and stops. */
class MigrationTargetWarmUpTest {
    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void receivesAndAppliesPageFramesUntilItsBudgetIsSpent() {
        int applied = MigrationTarget.warmReceivePath(() -> false);
        assertThat(applied).isPositive().isLessThanOrEqualTo(400);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void sendsNothingOnceTheSourceConnected() {
        AtomicInteger asked = new AtomicInteger();
        int applied = MigrationTarget.warmReceivePath(() -> asked.incrementAndGet() > 0);
        assertThat(applied).isZero();
        assertThat(asked.get()).as("the stop condition was consulted").isPositive();
    }
}
