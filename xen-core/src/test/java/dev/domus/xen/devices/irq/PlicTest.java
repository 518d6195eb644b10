// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PlicTest {
    private static final int S_CTX_HART0 = 1;
    private static final int M_CTX_HART1 = 2;
    private static final int S_CTX_HART1 = 3;

    private RecordingHarts harts;
    private Plic plic;

    @BeforeEach
    void setUp() {
        harts = new RecordingHarts(2);
        plic = new Plic(harts);
    }

    private void priority(int src, int prio) {
        plic.write(4L * src, 4, prio);
    }

    private void enable(int ctx, long mask) {
        plic.write(0x2000 + 0x80L * ctx, 4, mask & 0xffff_ffffL);
        plic.write(0x2000 + 0x80L * ctx + 4, 4, mask >>> 32);
    }

    private void threshold(int ctx, int t) {
        plic.write(0x20_0000 + 0x1000L * ctx, 4, t);
    }

    private long claim(int ctx) {
        return plic.read(0x20_0004 + 0x1000L * ctx, 4);
    }

    private void complete(int ctx, int src) {
        plic.write(0x20_0004 + 0x1000L * ctx, 4, src);
    }

    private long pendingBits() {
        return plic.read(0x1000, 8);
    }

    @Test
    void priorityRegistersHoldThreeBitsAndSourceZeroIsReserved() {
        priority(10, 0xff);
        assertThat(plic.read(40, 4)).isEqualTo(7);
        priority(0, 5);
        assertThat(plic.read(0, 4)).isZero();
        assertThat(plic.read(4L * 64, 4)).isZero();
    }

    @Test
    void enableBitsRoundTripAndBitZeroIsHardwiredOff() {
        enable(S_CTX_HART0, -1L);
        assertThat(plic.read(0x2080, 4)).isEqualTo(0xffff_fffeL);
        assertThat(plic.read(0x2084, 4)).isEqualTo(0xffff_ffffL);
        plic.write(0x2100, 8, 0x8000_0000_0000_0400L);
        assertThat(plic.read(0x2100, 8)).isEqualTo(0x8000_0000_0000_0400L);
        assertThat(plic.read(0x2080 + 8, 4)).isZero();
    }

    @Test
    void levelDrivesSupervisorExternalInterruptOfTheEnabledContext() {
        priority(10, 1);
        enable(S_CTX_HART1, 1L << 10);
        plic.line(10).set(true);
        assertThat(pendingBits()).isEqualTo(1L << 10);
        assertThat(harts.pending(1, HartInterrupts.SEIP)).isTrue();
        assertThat(harts.pending(1, HartInterrupts.MEIP)).isFalse();
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isFalse();
        plic.line(10).set(false);
        assertThat(pendingBits()).isZero();
        assertThat(harts.pending(1, HartInterrupts.SEIP)).isFalse();
        assertThat(claim(S_CTX_HART1)).isZero();
    }

    @Test
    void machineContextDrivesMeip() {
        priority(3, 2);
        enable(M_CTX_HART1, 1L << 3);
        plic.line(3).set(true);
        assertThat(harts.pending(1, HartInterrupts.MEIP)).isTrue();
        assertThat(claim(M_CTX_HART1)).isEqualTo(3);
        assertThat(harts.pending(1, HartInterrupts.MEIP)).isFalse();
    }

    @Test
    void priorityZeroAndThresholdMaskInterrupts() {
        enable(S_CTX_HART0, 1L << 5);
        plic.line(5).set(true);
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isFalse();
        assertThat(claim(S_CTX_HART0)).isZero();
        priority(5, 3);
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isTrue();
        threshold(S_CTX_HART0, 3);
        assertThat(plic.read(0x20_1000, 4)).isEqualTo(3);
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isFalse();
        assertThat(claim(S_CTX_HART0)).isZero();
        threshold(S_CTX_HART0, 2);
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isTrue();
    }

    @Test
    void claimedSourceIsNotPendingAgainUntilCompleted() {
        priority(10, 1);
        enable(S_CTX_HART0, 1L << 10);
        plic.line(10).set(true);
        assertThat(claim(S_CTX_HART0)).isEqualTo(10);
        assertThat(pendingBits()).isZero();
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isFalse();
        assertThat(claim(S_CTX_HART0)).isZero();

        plic.line(10).set(false);
        plic.line(10).set(true);
        assertThat(pendingBits()).isZero();

        complete(S_CTX_HART0, 10);
        assertThat(pendingBits()).isEqualTo(1L << 10);
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isTrue();

        assertThat(claim(S_CTX_HART0)).isEqualTo(10);
        plic.line(10).set(false);
        complete(S_CTX_HART0, 10);
        assertThat(pendingBits()).isZero();
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isFalse();
    }

    @Test
    void completionFromAContextWithoutTheSourceEnabledIsIgnored() {
        priority(7, 1);
        enable(S_CTX_HART0, 1L << 7);
        plic.line(7).set(true);
        assertThat(claim(S_CTX_HART0)).isEqualTo(7);
        complete(S_CTX_HART1, 7);
        assertThat(pendingBits()).isZero();
        complete(S_CTX_HART0, 0);
        complete(S_CTX_HART0, 64);
        complete(S_CTX_HART0, -1);
        assertThat(pendingBits()).isZero();
        complete(S_CTX_HART0, 7);
        assertThat(pendingBits()).isEqualTo(1L << 7);
    }

    @Test
    void claimPicksHighestPriorityThenLowestId() {
        enable(S_CTX_HART0, (1L << 4) | (1L << 9) | (1L << 63));
        priority(4, 2);
        priority(9, 5);
        priority(63, 5);
        plic.line(4).set(true);
        plic.line(9).set(true);
        plic.line(63).set(true);
        assertThat(claim(S_CTX_HART0)).isEqualTo(9);
        assertThat(claim(S_CTX_HART0)).isEqualTo(63);
        assertThat(claim(S_CTX_HART0)).isEqualTo(4);
        assertThat(claim(S_CTX_HART0)).isZero();
    }

    @Test
    void sourceEnabledOnTwoHartsIsClaimedOnce() {
        priority(1, 1);
        enable(S_CTX_HART0, 1L << 1);
        enable(S_CTX_HART1, 1L << 1);
        plic.line(1).set(true);
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isTrue();
        assertThat(harts.pending(1, HartInterrupts.SEIP)).isTrue();
        assertThat(claim(S_CTX_HART1)).isEqualTo(1);
        assertThat(harts.pending(0, HartInterrupts.SEIP)).isFalse();
        assertThat(claim(S_CTX_HART0)).isZero();
    }

    @Test
    void hartsAreToldOnlyAboutChanges() {
        priority(2, 1);
        enable(S_CTX_HART0, 1L << 2);
        int before = harts.calls;
        plic.line(2).set(true);
        plic.line(2).set(true);
        priority(2, 4);
        threshold(S_CTX_HART0, 1);
        assertThat(harts.calls - before).isEqualTo(1);
    }

    @Test
    void badAccessesNeverThrow() {
        plic.write(0x1000, 4, -1);
        assertThat(pendingBits()).isZero();
        plic.write(0x3, 4, 1);
        plic.write(0x4, 1, 1);
        assertThat(plic.read(0x4, 4)).isZero();
        assertThat(plic.read(0x20_0004 + 0x1000L * 4, 4)).isZero();
        plic.write(0x20_0004 + 0x1000L * 100, 4, 1);
        plic.write(0x2000 + 0x80L * 4, 4, 1);
        assertThat(plic.read(0x3ff_fffc, 4)).isZero();
        assertThatThrownBy(() -> plic.line(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> plic.line(64)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void stateRoundTripRestoresClaimsAndOutputs() {
        priority(10, 1);
        priority(11, 2);
        enable(S_CTX_HART0, (1L << 10) | (1L << 11));
        threshold(M_CTX_HART1, 6);
        plic.line(10).set(true);
        plic.line(11).set(true);
        assertThat(claim(S_CTX_HART0)).isEqualTo(11);
        PlicState saved = plic.state();

        RecordingHarts other = new RecordingHarts(2);
        Plic restored = new Plic(other);
        restored.restore(saved);
        assertThat(restored.state()).isEqualTo(saved);
        assertThat(other.pending(0, HartInterrupts.SEIP)).isTrue();
        assertThat(restored.read(0x20_0004 + 0x1000L * S_CTX_HART0, 4)).isEqualTo(10);
        assertThat(restored.read(0x1000, 4)).isZero();

        assertThatThrownBy(() -> new Plic(new RecordingHarts(1)).restore(saved))
                .hasMessageContaining("4 contexts");
    }

    @Test
    void concurrentDevicesAndClaimsLoseNoInterrupt() throws Exception {
        int sources = 4;
        int rounds = 2000;
        for (int s = 1; s <= sources; s++) {
            priority(s, 1);
        }
        enable(S_CTX_HART0, 0b11110);
        int[] raised = new int[sources + 1];
        int[] served = new int[sources + 1];
        Object[] acks = new Object[sources + 1];
        boolean[] busy = new boolean[sources + 1];
        Thread[] devices = new Thread[sources];
        for (int s = 1; s <= sources; s++) {
            int src = s;
            acks[src] = new Object();
            IrqLine line = plic.line(src);
            devices[src - 1] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < rounds; i++) {
                    synchronized (acks[src]) {
                        while (busy[src]) {
                            try {
                                acks[src].wait();
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                        busy[src] = true;
                        raised[src]++;
                    }
                    line.set(true);
                }
            });
        }
        int total = 0;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (total < sources * rounds && System.nanoTime() < deadline) {
            int s = (int) claim(S_CTX_HART0);
            if (s == 0) {
                Thread.onSpinWait();
                continue;
            }
            synchronized (acks[s]) {
                plic.line(s).set(false);
                served[s]++;
                busy[s] = false;
                acks[s].notifyAll();
            }
            complete(S_CTX_HART0, s);
            total++;
        }
        for (Thread t : devices) {
            t.join(1000);
        }
        assertThat(total).isEqualTo(sources * rounds);
        assertThat(pendingBits()).isZero();
    }
}
