// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;
import org.junit.jupiter.api.Test;

class CollectorTest {
    private static volatile Object sink;

    private static List<MemoryPoolMXBean> eden() {
        return ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP && p.getName().contains("Eden")).toList();
    }

    @Test
    void leavesAtLeastHalfOfEdenFree() {
        List<MemoryPoolMXBean> eden = eden();
        assertThat(eden).as("an eden pool to measure").isNotEmpty();
        Collector.warm();
        for (int round = 0; round < 3; round++) {
            // Fill eden past the half way mark (or at least try: a collection on the way is fine too).
            long committed = eden.getFirst().getUsage().getCommitted();
            for (long a = 0; a < committed * 3 / 4; a += 4096) {
                sink = new byte[4096];
            }
            Collector.collectYoung();
            var u = eden.getFirst().getUsage();
            assertThat(u.getUsed() * 2).as("eden used after a collection, round %d", round)
                    .isLessThanOrEqualTo(u.getCommitted());
        }
    }
}
