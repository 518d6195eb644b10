// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10^5 hostile-guest cases over all virtio devices (fixed seed, so a failure reproduces);
 * {@code -Dvirtio.fuzz.cases=N -Dvirtio.fuzz.seed=S} runs more or other ones ({@code xen-core/bench/virtio-fuzz}).
 */
class VirtioFuzzTest {
    @TempDir
    Path dir;

    @Test
    void hostileGuestsNeverBreakTheHost() throws Exception {
        long cases = Long.getLong("virtio.fuzz.cases", 100_000L);
        long seed = Long.getLong("virtio.fuzz.seed", 0x5eed_0001L);
        VirtioFuzzer.Stats s = new VirtioFuzzer(seed, dir).run(cases);
        System.out.printf("virtio-fuzz seed=%d cases=%d completed=%d needs_reset=%d chains=%d%n", seed, s.cases(),
                s.completed(), s.needsReset(), s.chains());
        assertThat(s.cases()).isEqualTo(cases);
        assertThat(s.needsReset()).as("malformed chains are detected").isGreaterThan(cases / 100);
        assertThat(s.completed()).as("well-formed chains still complete").isGreaterThan(cases / 100);
    }
}
