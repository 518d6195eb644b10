// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.power;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SifiveTestDeviceTest {
    private final RecordingPowerEvents events = new RecordingPowerEvents();
    private final SifiveTestDevice dev = new SifiveTestDevice(events);

    @Test
    void decodesPoweroffFailAndReset() {
        dev.write(0, 4, 0x5555);
        dev.write(0, 4, 0x0003_5555);
        dev.write(0, 4, 0x7777);
        dev.write(0, 4, 0x0002_3333);
        assertThat(events.events).containsExactly("poweroff 0", "poweroff 3", "reset",
                "crash guest reported failure (sifive test, code 2)");
    }

    @Test
    void otherValuesOffsetsAndWidthsAreIgnored() {
        dev.write(0, 4, 0x1234);
        dev.write(4, 4, 0x5555);
        dev.write(0, 1, 0x55);
        dev.write(0, 8, 0xffff_ffff_0000_1111L);
        assertThat(events.events).isEmpty();
        dev.write(0, 2, 0xffff_5555L);
        dev.write(0, 8, 0x1_0000_7777L);
        assertThat(events.events).containsExactly("poweroff 0", "reset");
        assertThat(dev.read(0, 4)).isZero();
    }

    @Test
    void stateIsEmpty() {
        dev.restore(dev.state());
        assertThat(dev.state()).isEqualTo(new SifiveTestState());
    }
}
