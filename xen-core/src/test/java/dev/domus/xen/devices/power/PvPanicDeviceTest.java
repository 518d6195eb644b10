// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.power;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PvPanicDeviceTest {
    private final RecordingPowerEvents events = new RecordingPowerEvents();
    private final PvPanicDevice dev = new PvPanicDevice(events);

    @Test
    void advertisesPanickedAndCrashLoaded() {
        assertThat(dev.read(0, 1)).isEqualTo(0x3);
        assertThat(dev.read(1, 1)).isZero();
    }

    @Test
    void panicAndCrashLoadedBecomeCrashes() {
        dev.write(0, 1, 0x1);
        dev.write(0, 1, 0x2);
        dev.write(0, 1, 0x3);
        assertThat(events.events).containsExactly("crash guest kernel panic (pvpanic)",
                "crash guest crash loaded (pvpanic)", "crash guest kernel panic (pvpanic)");
    }

    @Test
    void otherBitsAndOffsetsAreIgnored() {
        dev.write(0, 1, 0x4);
        dev.write(0, 1, 0);
        dev.write(8, 1, 0x1);
        assertThat(events.events).isEmpty();
        dev.restore(dev.state());
    }
}
