// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ClintTest {
    private RecordingHarts harts;
    private MachineClock clock;
    private Clint clint;

    @BeforeEach
    void setUp() {
        harts = new RecordingHarts(2);
        clock = new MachineClock();
        clock.freeze();
        clock.setMtime(1000);
        clint = new Clint(harts, clock);
    }

    @Test
    void msipDrivesMachineSoftwareInterruptOfTheRightHart() {
        clint.write(0x4, 4, 0xffff_ffffL);
        assertThat(harts.pending(1, HartInterrupts.MSIP)).isTrue();
        assertThat(harts.pending(0, HartInterrupts.MSIP)).isFalse();
        assertThat(clint.read(0x4, 4)).isEqualTo(1);
        clint.write(0x4, 4, 0);
        assertThat(harts.pending(1, HartInterrupts.MSIP)).isFalse();
        assertThat(clint.read(0x4, 4)).isZero();
    }

    @Test
    void mtimecmpResetsToAllOnesAndNeverFires() {
        assertThat(clint.mtimecmp(0)).isEqualTo(-1L);
        assertThat(clint.read(0x4000, 8)).isEqualTo(-1L);
        assertThat(clint.updateTimer(0)).isFalse();
        assertThat(clint.mtimecmp(7)).isEqualTo(-1L);
    }

    @Test
    void mtimecmpWriteSetsAndClearsTimerInterrupt() {
        clint.write(0x4008, 8, 999);
        assertThat(harts.pending(1, HartInterrupts.MTIP)).isTrue();
        clint.write(0x4008, 8, 2000);
        assertThat(harts.pending(1, HartInterrupts.MTIP)).isFalse();
        assertThat(clint.mtimecmp(1)).isEqualTo(2000);
        clock.setMtime(2000);
        assertThat(clint.updateTimer(1)).isTrue();
        assertThat(harts.pending(1, HartInterrupts.MTIP)).isTrue();
    }

    @Test
    void mtimecmpHalvesAreAccessibleSeparately() {
        clint.write(0x4000, 4, 0x1234_5678L);
        clint.write(0x4004, 4, 0x9abc_def0L);
        assertThat(clint.mtimecmp(0)).isEqualTo(0x9abc_def0_1234_5678L);
        assertThat(clint.read(0x4000, 4)).isEqualTo(0x1234_5678L);
        assertThat(clint.read(0x4004, 4)).isEqualTo(0x9abc_def0L);
    }

    @Test
    void mtimeReadsAndWritesTheClock() {
        assertThat(clint.read(0xBFF8, 8)).isEqualTo(1000);
        clint.write(0xBFF8, 8, 0x1_0000_0005L);
        assertThat(clock.mtime()).isEqualTo(0x1_0000_0005L);
        assertThat(clint.read(0xBFFC, 4)).isEqualTo(1);
        clint.write(0xBFF8, 4, 7);
        assertThat(clock.mtime()).isEqualTo(0x1_0000_0007L);
    }

    @Test
    void mtimeWriteReevaluatesTimers() {
        clint.write(0x4000, 8, 5000);
        assertThat(harts.pending(0, HartInterrupts.MTIP)).isFalse();
        clint.write(0xBFF8, 8, 6000);
        assertThat(harts.pending(0, HartInterrupts.MTIP)).isTrue();
    }

    @Test
    void unknownOffsetsReadZeroAndIgnoreWrites() {
        assertThat(clint.read(0x8, 4)).isZero();
        assertThat(clint.read(0x4010, 8)).isZero();
        clint.write(0x8, 4, 1);
        clint.write(0x7000, 8, 1);
        assertThat(clint.state()).isEqualTo(new Clint(new RecordingHarts(2), clock).state());
    }

    @Test
    void stateRoundTripRedrivesPendingBits() {
        clint.write(0x0, 4, 1);
        clint.write(0x4008, 8, 10);
        ClintState saved = clint.state();

        RecordingHarts other = new RecordingHarts(2);
        Clint restored = new Clint(other, clock);
        restored.restore(saved);
        assertThat(restored.state()).isEqualTo(saved);
        assertThat(other.pending(0, HartInterrupts.MSIP)).isTrue();
        assertThat(other.pending(1, HartInterrupts.MTIP)).isTrue();
        assertThat(restored.mtimecmp(1)).isEqualTo(10);

        Clint wrong = new Clint(new RecordingHarts(3), clock);
        assertThatThrownBy(() -> wrong.restore(saved)).hasMessageContaining("2 harts");
    }
}
