// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.devices.virtio.rng.RngDevice;
import org.junit.jupiter.api.Test;

class VirtioMmioTest {
    @Test
    void identifiesAsModernVirtioMmio() {
        try (TestDriver d = new TestDriver(new RngDevice())) {
            assertThat(d.reg(VirtioMmio.R_MAGIC)).isEqualTo(0x74726976);
            assertThat(d.reg(VirtioMmio.R_VERSION)).isEqualTo(2);
            assertThat(d.reg(VirtioMmio.R_DEVICE_ID)).isEqualTo(4);
            d.reg(VirtioMmio.R_DEVICE_FEATURES_SEL, 1);
            assertThat(d.reg(VirtioMmio.R_DEVICE_FEATURES) & 1).as("VERSION_1").isEqualTo(1);
            d.reg(VirtioMmio.R_DEVICE_FEATURES_SEL, 0);
            assertThat(d.reg(VirtioMmio.R_DEVICE_FEATURES) >>> 28 & 3).as("indirect + event idx").isEqualTo(3);
            d.reg(VirtioMmio.R_QUEUE_SEL, 0);
            assertThat(d.reg(VirtioMmio.R_QUEUE_NUM_MAX)).isEqualTo(64);
            d.reg(VirtioMmio.R_QUEUE_SEL, 1);
            assertThat(d.reg(VirtioMmio.R_QUEUE_NUM_MAX)).as("no such queue").isZero();
        }
    }

    @Test
    void refusesFeaturesOkWithoutVersion1OrWithUnofferedBits() {
        try (TestDriver d = new TestDriver(new RngDevice())) {
            d.reg(VirtioMmio.R_STATUS, 3);
            d.reg(VirtioMmio.R_DRIVER_FEATURES_SEL, 1);
            d.reg(VirtioMmio.R_DRIVER_FEATURES, 0); // legacy driver
            d.reg(VirtioMmio.R_STATUS, 3 | VirtioMmio.STATUS_FEATURES_OK);
            assertThat(d.status() & VirtioMmio.STATUS_FEATURES_OK).isZero();
            d.reg(VirtioMmio.R_DRIVER_FEATURES, 1 | 0x8000); // VERSION_1 + something never offered
            d.reg(VirtioMmio.R_STATUS, 3 | VirtioMmio.STATUS_FEATURES_OK);
            assertThat(d.status() & VirtioMmio.STATUS_FEATURES_OK).isZero();
            d.reg(VirtioMmio.R_DRIVER_FEATURES, 1);
            d.reg(VirtioMmio.R_STATUS, 3 | VirtioMmio.STATUS_FEATURES_OK);
            assertThat(d.status() & VirtioMmio.STATUS_FEATURES_OK).isNotZero();
        }
    }

    @Test
    void invalidQueueSetupNeedsReset() {
        try (TestDriver d = new TestDriver(new RngDevice())) {
            d.reg(VirtioMmio.R_STATUS, 3);
            d.reg(VirtioMmio.R_DRIVER_FEATURES_SEL, 1);
            d.reg(VirtioMmio.R_DRIVER_FEATURES, 1);
            d.reg(VirtioMmio.R_STATUS, 3 | VirtioMmio.STATUS_FEATURES_OK);
            d.setupQueue(0, 48, TestDriver.desc(0), TestDriver.avail(0), TestDriver.used(0)); // not a power of 2
            assertThat(d.needsReset()).isTrue();
            assertThat(d.reg(VirtioMmio.R_QUEUE_READY)).isZero();
            d.reg(VirtioMmio.R_STATUS, 0);
            assertThat(d.status()).isZero();
            d.start(16);
            d.setupQueue(0, 16, 0x1000, TestDriver.avail(0), TestDriver.used(0)); // ignored: queue is live
            assertThat(d.needsReset()).isFalse();
        }
    }

    @Test
    void ringOutsideRamNeedsReset() {
        try (TestDriver d = new TestDriver(new RngDevice())) {
            d.reg(VirtioMmio.R_STATUS, 3);
            d.reg(VirtioMmio.R_DRIVER_FEATURES_SEL, 1);
            d.reg(VirtioMmio.R_DRIVER_FEATURES, 1);
            d.reg(VirtioMmio.R_STATUS, 3 | VirtioMmio.STATUS_FEATURES_OK);
            d.setupQueue(0, 16, TestDriver.RAM_BASE + TestDriver.RAM_SIZE - 64, TestDriver.avail(0),
                    TestDriver.used(0));
            assertThat(d.needsReset()).isTrue();
        }
    }

    @Test
    void directAndIndirectChainsCompleteAndInterrupt() {
        try (TestDriver d = new TestDriver(new RngDevice()).start(16)) {
            long a = d.alloc(100);
            long b = d.alloc(28);
            int head = d.submit(0, new TestDriver.Buf(a, 100, true), new TestDriver.Buf(b, 28, true));
            assertThat(d.usedIdx(0)).isEqualTo(1);
            assertThat(d.usedElem(0, 0)).containsExactly(head, 128);
            assertThat(d.irq.get()).isTrue();
            d.ackInterrupts();
            assertThat(d.irq.get()).isFalse();
            int h2 = d.submitIndirect(0, new TestDriver.Buf(d.alloc(64), 64, true),
                    new TestDriver.Buf(d.alloc(64), 64, true), new TestDriver.Buf(d.alloc(32), 32, true));
            assertThat(d.usedIdx(0)).isEqualTo(2);
            assertThat(d.usedElem(0, 1)).containsExactly(h2, 160);
            assertThat(d.needsReset()).isFalse();
        }
    }

    @Test
    void descriptorLoopNeedsReset() {
        try (TestDriver d = new TestDriver(new RngDevice()).start(8)) {
            long a = d.alloc(16);
            d.descriptor(0, 0, a, 16, Virtqueue.DESC_F_NEXT | Virtqueue.DESC_F_WRITE, 1);
            d.descriptor(0, 1, a, 16, Virtqueue.DESC_F_NEXT | Virtqueue.DESC_F_WRITE, 0);
            d.makeAvailable(0, 0);
            d.notifyQueue(0);
            assertThat(d.needsReset()).isTrue();
            assertThat(d.usedIdx(0)).isZero();
            assertThat(d.reg(VirtioMmio.R_INTERRUPT_STATUS) & 2).as("config interrupt").isEqualTo(2);
        }
    }

    @Test
    void eventIdxSuppressesInterruptsUntilUsedEventIsCrossed() {
        try (TestDriver d = new TestDriver(new RngDevice()).start(16)) {
            long usedEvent = TestDriver.avail(0) - TestDriver.RAM_BASE + 4 + 2 * 16;
            d.ram.storeShort(usedEvent, (short) 2); // interrupt when used idx passes 2
            d.submit(0, new TestDriver.Buf(d.alloc(8), 8, true));
            d.submit(0, new TestDriver.Buf(d.alloc(8), 8, true));
            assertThat(d.irq.get()).isFalse();
            d.submit(0, new TestDriver.Buf(d.alloc(8), 8, true));
            assertThat(d.irq.get()).isTrue();
            long availEvent = TestDriver.used(0) - TestDriver.RAM_BASE + 4 + 8 * 16;
            assertThat(d.ram.loadShort(availEvent)).as("avail_event published").isEqualTo((short) 3);
        }
    }

    @Test
    void noInterruptFlagWithoutEventIdx() {
        long noEventIdx = ~(1L << VirtioMmio.F_RING_EVENT_IDX);
        try (TestDriver d = new TestDriver(new RngDevice()).start(16, noEventIdx)) {
            d.ram.storeShort(TestDriver.avail(0) - TestDriver.RAM_BASE, (short) Virtqueue.AVAIL_F_NO_INTERRUPT);
            d.submit(0, new TestDriver.Buf(d.alloc(8), 8, true));
            assertThat(d.usedIdx(0)).isEqualTo(1);
            assertThat(d.irq.get()).isFalse();
        }
    }

    @Test
    void rehearsingARestoreChecksTheStateButLeavesTheTransportAsItWas() {
        VirtioMmioState live;
        try (TestDriver src = new TestDriver(new RngDevice()).start(16)) {
            live = src.mmio.state();
        }
        assertThat(live.status() & VirtioMmio.STATUS_DRIVER_OK).isNotZero();
        try (TestDriver d = new TestDriver(new RngDevice())) {
            assertThat(d.mmio.rehearseRestore(live)).isEmpty();
            // Nothing changed: the transport is still fresh (no status, no live queue) and a real restore works.
            assertThat(d.status()).isZero();
            assertThat(d.reg(VirtioMmio.R_QUEUE_READY)).isZero();
            d.mmio.restore(live);
            assertThat(d.status() & VirtioMmio.STATUS_DRIVER_OK).isNotZero();
        }
    }

    @Test
    void rehearsingARestoreReportsWhatTheRestoreWouldRefuse() {
        VirtioMmioState live;
        try (TestDriver src = new TestDriver(new RngDevice()).start(16)) {
            live = src.mmio.state();
        }
        QueueState q = live.queues().get(0);
        VirtioMmioState outside = new VirtioMmioState(live.status(), live.driverFeatures(), live.interruptStatus(),
                live.configGeneration(), java.util.List.of(new QueueState(q.size(),
                        TestDriver.RAM_BASE + TestDriver.RAM_SIZE - 64, q.avail(), q.used(), true, q.lastAvail(),
                        q.usedIdx())));
        try (TestDriver d = new TestDriver(new RngDevice())) {
            assertThat(d.mmio.rehearseRestore(outside)).hasValueSatisfying(m -> assertThat(m).contains("outside RAM"));
            assertThat(d.status()).isZero();
        }
    }
}
