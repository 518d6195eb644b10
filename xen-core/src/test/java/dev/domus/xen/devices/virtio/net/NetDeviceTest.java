// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.devices.virtio.transport.TestDriver;
import dev.domus.xen.devices.virtio.transport.TestDriver.Buf;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NetDeviceTest {
    private static final byte[] MAC = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

    private static byte[] frame(int len, int fill) {
        byte[] f = new byte[len];
        Arrays.fill(f, (byte) fill);
        return f;
    }

    @Test
    void configSpaceCarriesMacAndLinkUp() {
        MemoryNetBackend be = new MemoryNetBackend();
        try (TestDriver d = new TestDriver(new NetDevice(MAC, be)).start(64)) {
            for (int i = 0; i < 6; i++) {
                assertThat((byte) d.mmio.read(0x100 + i, 1)).isEqualTo(MAC[i]);
            }
            assertThat(d.mmio.read(0x106, 2)).isEqualTo(NetDevice.LINK_UP);
        }
    }

    @Test
    void transmitStripsTheHeaderAndDropsMalformedFrames() throws Exception {
        MemoryNetBackend be = new MemoryNetBackend();
        try (TestDriver d = new TestDriver(new NetDevice(MAC, be)).start(64)) {
            long hdr = d.alloc(12);
            long data = d.alloc(60);
            d.poke(data, frame(60, 7));
            d.submit(NetDevice.TX, new Buf(hdr, 12, false), new Buf(data, 60, false));
            assertThat(be.sent.poll(5, TimeUnit.SECONDS)).isEqualTo(frame(60, 7));
            long big = d.alloc(9000);
            d.submit(NetDevice.TX, new Buf(big, 9000, false));      // larger than the MTU allows
            d.submit(NetDevice.TX, new Buf(hdr, 12, false));         // header only
            assertThat(d.usedIdx(NetDevice.TX)).isEqualTo(3);
            assertThat(be.sent).isEmpty();
            assertThat(d.needsReset()).isFalse();
        }
    }

    @Test
    void receivedFramesWaitForGuestBuffers() throws Exception {
        MemoryNetBackend be = new MemoryNetBackend();
        try (TestDriver d = new TestDriver(new NetDevice(MAC, be)).start(64)) {
            be.toGuest.add(frame(100, 9));
            Thread.sleep(50); // the frame is held: no buffer posted yet
            assertThat(d.usedIdx(NetDevice.RX)).isZero();
            long buf = d.alloc(1526);
            synchronized (d.mmio) {
                d.submit(NetDevice.RX, new Buf(buf, 1526, true));
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (d.usedIdx(NetDevice.RX) == 0 && System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            assertThat(d.usedIdx(NetDevice.RX)).as("%s needsReset=%s", ((NetDevice) d.mmio.device()).state(), d.needsReset()).isEqualTo(1);
            assertThat(d.usedElem(NetDevice.RX, 0)[1]).isEqualTo(112);
            byte[] got = d.peek(buf, 112);
            assertThat(got[10]).as("num_buffers").isEqualTo((byte) 1);
            assertThat(Arrays.copyOfRange(got, 12, 112)).isEqualTo(frame(100, 9));
            assertThat(d.irq.get()).isTrue();
        }
    }
}
