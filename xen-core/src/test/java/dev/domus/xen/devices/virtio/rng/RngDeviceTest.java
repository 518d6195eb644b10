// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.rng;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.devices.virtio.transport.TestDriver;
import dev.domus.xen.devices.virtio.transport.TestDriver.Buf;
import org.junit.jupiter.api.Test;

class RngDeviceTest {
    @Test
    void fillsWritableBuffersWithEntropyAndCapsTheRequest() {
        try (TestDriver d = new TestDriver(new RngDevice()).start(16)) {
            long a = d.alloc(256);
            d.submit(0, new Buf(a, 256, true));
            assertThat(d.usedElem(0, 0)[1]).isEqualTo(256);
            assertThat(d.peek(a, 256)).as("not all zero").isNotEqualTo(new byte[256]);
            long big = d.alloc(1 << 20);
            d.submit(0, new Buf(big, 1 << 20, true));
            assertThat(d.usedElem(0, 1)[1]).isEqualTo(RngDevice.MAX_PER_REQUEST);
            d.submit(0, new Buf(a, 64, false)); // nothing writable: completes with 0 bytes
            assertThat(d.usedElem(0, 2)[1]).isZero();
            assertThat(((RngDevice) d.mmio.device()).state().bytesServed()).isEqualTo(256 + RngDevice.MAX_PER_REQUEST);
        }
    }
}
