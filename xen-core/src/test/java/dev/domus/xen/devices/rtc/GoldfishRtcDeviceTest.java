// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.rtc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GoldfishRtcDeviceTest {
    private static final long T0 = 1_700_000_000_123_456_789L;

    private final AtomicLong wall = new AtomicLong(T0);
    private final AtomicBoolean line = new AtomicBoolean();
    private ScheduledExecutorService scheduler;
    private GoldfishRtcDevice rtc;

    @BeforeEach
    void setUp() {
        scheduler = Executors.newSingleThreadScheduledExecutor();
        rtc = new GoldfishRtcDevice(line::set, wall::get, scheduler);
    }

    @AfterEach
    void tearDown() {
        rtc.close();
        scheduler.shutdownNow();
    }

    private long readTime() {
        long low = rtc.read(0x00, 4);
        long high = rtc.read(0x04, 4);
        return (high << 32) | low;
    }

    @Test
    void timeReadsLatchTheHighWord() {
        assertThat(readTime()).isEqualTo(T0);
        long low = rtc.read(0x00, 4);
        wall.addAndGet(1L << 32);
        assertThat(rtc.read(0x04, 4)).isEqualTo(T0 >>> 32); // still the latched word
        assertThat(low).isEqualTo(T0 & 0xffff_ffffL);
        assertThat(rtc.read(0x00, 8)).isEqualTo(T0 + (1L << 32));
    }

    @Test
    void settingTimeHighThenLowShiftsTheClock() {
        long target = 946_684_800_000_000_000L; // 2000-01-01
        rtc.write(0x04, 4, target >>> 32);
        rtc.write(0x00, 4, target & 0xffff_ffffL);
        assertThat(readTime()).isEqualTo(target);
        wall.addAndGet(5_000);
        assertThat(readTime()).isEqualTo(target + 5_000);
        assertThat(rtc.state().offsetNanos()).isEqualTo(target - T0);
        rtc.setNowNanos(T0);
        assertThat(rtc.nowNanos()).isEqualTo(T0);
    }

    @Test
    void alarmFiresInterruptWhenEnabledAndIsAcknowledged() {
        long at = T0 + 1_000_000;
        rtc.write(0x0c, 4, at >>> 32);
        rtc.write(0x08, 4, at & 0xffff_ffffL);
        rtc.write(0x10, 4, 1);
        assertThat(rtc.read(0x18, 4)).isEqualTo(1);
        assertThat(rtc.read(0x08, 4)).isEqualTo(at & 0xffff_ffffL);
        assertThat(rtc.read(0x0c, 4)).isEqualTo(at >>> 32);
        assertThat(line.get()).isFalse();

        wall.set(at);
        assertThat(rtc.read(0x18, 4)).isZero();
        assertThat(line.get()).isTrue();
        rtc.write(0x1c, 4, 1);
        assertThat(line.get()).isFalse();
    }

    @Test
    void alarmInThePastFiresAtOnceAndIrqEnableGatesTheLine() {
        rtc.write(0x08, 8, T0 - 1);
        assertThat(rtc.read(0x18, 4)).isZero();
        assertThat(line.get()).isFalse();
        rtc.write(0x10, 4, 1);
        assertThat(line.get()).isTrue();
        assertThat(rtc.read(0x10, 4)).isEqualTo(1);
        rtc.write(0x10, 4, 0);
        assertThat(line.get()).isFalse();
    }

    @Test
    void clearAlarmDisarms() {
        rtc.write(0x10, 4, 1);
        rtc.write(0x08, 8, T0 + 10);
        rtc.write(0x14, 4, 1);
        assertThat(rtc.read(0x18, 4)).isZero();
        wall.addAndGet(100);
        rtc.read(0x00, 4);
        assertThat(line.get()).isFalse();
    }

    @Test
    void timerThreadFiresWithoutGuestAccess() throws Exception {
        CountDownLatch fired = new CountDownLatch(1);
        GoldfishRtcDevice real = new GoldfishRtcDevice(level -> {
            if (level) {
                fired.countDown();
            }
        });
        real.write(0x10, 4, 1);
        real.write(0x08, 8, real.nowNanos() + TimeUnit.MILLISECONDS.toNanos(30));
        assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(real.state().alarmRunning()).isFalse();
        real.close();
    }

    @Test
    void oddAccessesAreHarmless() {
        assertThat(rtc.read(0x00, 1)).isZero();
        assertThat(rtc.read(0x20, 4)).isZero();
        rtc.write(0x18, 4, 1);
        rtc.write(0xffc, 4, 1);
        rtc.write(0x08, 2, 1);
        assertThat(rtc.read(0x18, 4)).isZero();
    }

    @Test
    void stateRoundTripKeepsOffsetAndRearmsAlarm() {
        rtc.setNowNanos(T0 + 1_000);
        rtc.write(0x10, 4, 1);
        rtc.write(0x08, 8, T0 + 5_000);
        GoldfishRtcState saved = rtc.state();
        assertThat(saved).isEqualTo(new GoldfishRtcState(1_000, T0 + 5_000, true, true, false,
                saved.timeHigh()));

        AtomicBoolean otherLine = new AtomicBoolean();
        GoldfishRtcDevice copy = new GoldfishRtcDevice(otherLine::set, wall::get, scheduler);
        copy.restore(saved);
        assertThat(copy.state()).isEqualTo(saved);
        assertThat(copy.nowNanos()).isEqualTo(T0 + 1_000);
        wall.addAndGet(4_000);
        assertThat(copy.read(0x18, 4)).isZero();
        assertThat(otherLine.get()).isTrue();
        copy.close();
    }
}
