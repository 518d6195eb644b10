// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The runner's background warm-up of the migration sender: full passes really go through, within its bounds. */
class MigrationSourceWarmUpTest {
    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void sendsFullPassesOverLoopbackWithinItsBounds() {
        // A pass that failed (scan, frame or socket) is not counted: a broken send path gives 0.
        assertThat(MigrationSource.warmSendPath(0)).isEqualTo(1);
        assertThat(MigrationSource.warmSendPath(60_000_000_000L)).isEqualTo(20);
    }
}
