// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.devices.virtio.transport.TestDriver;
import dev.domus.xen.devices.virtio.transport.TestDriver.Buf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleDeviceTest {
    @Test
    void outputReachesTheSinkAndInputWaitsForReceiveBuffers() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ConsoleDevice dev = new ConsoleDevice(out::write);
        try (TestDriver d = new TestDriver(dev).start(16)) {
            long a = d.alloc(5);
            d.poke(a, "hello".getBytes(StandardCharsets.US_ASCII));
            d.submit(ConsoleDevice.TX, new Buf(a, 5, false));
            assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("hello");

            dev.receive("ls\n".getBytes(StandardCharsets.US_ASCII), 0, 3);
            assertThat(dev.state().pendingInput()).hasSize(3);
            long rx = d.alloc(2);
            d.submit(ConsoleDevice.RX, new Buf(rx, 2, true));
            assertThat(new String(d.peek(rx, 2), StandardCharsets.US_ASCII)).isEqualTo("ls");
            long rx2 = d.alloc(16);
            d.submit(ConsoleDevice.RX, new Buf(rx2, 16, true));
            assertThat(d.usedElem(ConsoleDevice.RX, 1)[1]).isEqualTo(1);
            assertThat(dev.state().pendingInput()).isEmpty();

            dev.receive(new byte[ConsoleDevice.INPUT_LIMIT + 100], 0, ConsoleDevice.INPUT_LIMIT + 100);
            assertThat(dev.state().pendingInput()).hasSize(ConsoleDevice.INPUT_LIMIT);
        }
    }
}
