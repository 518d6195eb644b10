// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.rtc;

import dev.domus.xen.bus.MmioDevice;
import dev.domus.xen.devices.irq.IrqLine;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Goldfish RTC (compatible "google,goldfish-rtc"), as used by Linux's rtc-goldfish driver. All registers are
 * 32 bits; time is in nanoseconds since the Unix epoch.
 *
 * <ul>
 *   <li>{@code 0x00 TIME_LOW}: read returns the low word of the current time and latches the high word;
 *       write sets the time to {@code (latched high << 32) | value} (Linux writes TIME_HIGH first).</li>
 *   <li>{@code 0x04 TIME_HIGH}: read returns the latched high word; write latches it.</li>
 *   <li>{@code 0x08 ALARM_LOW}: write sets the low word of the alarm and arms it (an alarm in the past fires at
 *       once); read returns the low word. {@code 0x0c ALARM_HIGH}: the alarm's high word.</li>
 *   <li>{@code 0x10 IRQ_ENABLED}: bit 0 gates the interrupt line.</li>
 *   <li>{@code 0x14 CLEAR_ALARM}: write disarms the alarm. {@code 0x18 ALARM_STATUS}: 1 while armed.</li>
 *   <li>{@code 0x1c CLEAR_INTERRUPT}: write acknowledges a fired alarm.</li>
 * </ul>
 *
 * <p>The interrupt line is high while a fired alarm is unacknowledged and IRQ_ENABLED is set. Alarms are timed on a
 * shared daemon scheduler thread (or one supplied by the caller) and also checked on every register access. An
 * 8-byte access at TIME_LOW or ALARM_LOW moves the whole 64-bit value; other widths read as zero and are ignored.
 */
public final class GoldfishRtcDevice implements MmioDevice {
    /** Guest-physical base of the window on the virt machine. */
    public static final long BASE = 0x0010_1000L;
    /** Window size. */
    public static final long SIZE = 0x1000;
    /** PLIC source. */
    public static final int IRQ = 11;

    static final int TIME_LOW = 0x00;
    static final int TIME_HIGH = 0x04;
    static final int ALARM_LOW = 0x08;
    static final int ALARM_HIGH = 0x0c;
    static final int IRQ_ENABLED = 0x10;
    static final int CLEAR_ALARM = 0x14;
    static final int ALARM_STATUS = 0x18;
    static final int CLEAR_INTERRUPT = 0x1c;

    /** Longest single timer wait; a far-future alarm is re-armed in steps so the clock can be re-read. */
    private static final long MAX_WAIT_NANOS = TimeUnit.HOURS.toNanos(1);

    private final IrqLine irq;
    private final LongSupplier wallClockNanos;
    private final ScheduledExecutorService scheduler;

    private long offsetNanos;
    private long alarmNanos;
    private boolean alarmRunning;
    private boolean irqEnabled;
    private boolean irqPending;
    private int timeHigh;
    private boolean irqLevel;
    private ScheduledFuture<?> timer;

    /** An RTC on the host's wall clock, timing alarms on a shared daemon thread. */
    public GoldfishRtcDevice(IrqLine irq) {
        this(irq, GoldfishRtcDevice::hostWallClockNanos, SharedScheduler.INSTANCE);
    }

    /** An RTC on {@code wallClockNanos} (nanoseconds since the epoch), timing alarms on {@code scheduler}. */
    public GoldfishRtcDevice(IrqLine irq, LongSupplier wallClockNanos, ScheduledExecutorService scheduler) {
        this.irq = irq;
        this.wallClockNanos = wallClockNanos;
        this.scheduler = scheduler;
    }

    static long hostWallClockNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    @Override
    public long size() {
        return SIZE;
    }

    @Override
    public String name() {
        return "rtc";
    }

    /** Current guest time in nanoseconds since the epoch. */
    public synchronized long nowNanos() {
        return wallClockNanos.getAsLong() + offsetNanos;
    }

    /** Sets the guest clock to {@code epochNanos} (toolstack: a domain created with a fixed clock). */
    public synchronized void setNowNanos(long epochNanos) {
        offsetNanos = epochNanos - wallClockNanos.getAsLong();
        rearm();
    }

    @Override
    public synchronized long read(long offset, int width) {
        checkAlarm();
        if (width == 8) {
            if (offset == TIME_LOW) {
                long now = nowNanos();
                timeHigh = (int) (now >>> 32);
                return now;
            }
            return offset == ALARM_LOW ? alarmNanos : 0;
        }
        if (width != 4) {
            return 0;
        }
        long v = switch ((int) offset) {
            case TIME_LOW -> {
                long now = nowNanos();
                timeHigh = (int) (now >>> 32);
                yield now;
            }
            case TIME_HIGH -> timeHigh;
            case ALARM_LOW -> alarmNanos;
            case ALARM_HIGH -> alarmNanos >>> 32;
            case IRQ_ENABLED -> irqEnabled ? 1 : 0;
            case ALARM_STATUS -> alarmRunning ? 1 : 0;
            default -> 0;
        };
        return v & 0xffff_ffffL;
    }

    @Override
    public synchronized void write(long offset, int width, long value) {
        checkAlarm();
        if (width == 8 && offset == TIME_LOW) {
            setNowNanos(value);
        } else if (width == 8 && offset == ALARM_LOW) {
            arm(value);
        } else if (width == 4) {
            long v = value & 0xffff_ffffL;
            switch ((int) offset) {
                case TIME_LOW -> setNowNanos(((long) timeHigh << 32) | v);
                case TIME_HIGH -> timeHigh = (int) v;
                case ALARM_LOW -> arm((alarmNanos & 0xffff_ffff_0000_0000L) | v);
                case ALARM_HIGH -> alarmNanos = (alarmNanos & 0xffff_ffffL) | (v << 32);
                case IRQ_ENABLED -> irqEnabled = (v & 1) != 0;
                case CLEAR_ALARM -> {
                    alarmRunning = false;
                    cancelTimer();
                }
                case CLEAR_INTERRUPT -> irqPending = false;
                default -> {
                    // read-only or reserved
                }
            }
        }
        updateIrq();
    }

    private void arm(long at) {
        alarmNanos = at;
        alarmRunning = true;
        rearm();
    }

    /** Fires the alarm if it is due; otherwise (re)starts the timer for it. Caller holds the lock. */
    private void rearm() {
        cancelTimer();
        if (!alarmRunning) {
            return;
        }
        long delay = alarmNanos - nowNanos();
        if (delay <= 0) {
            fire();
            return;
        }
        try {
            timer = scheduler.schedule(this::onTimer, Math.min(delay, MAX_WAIT_NANOS), TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            // A shut-down scheduler: the alarm is still checked on register access.
            timer = null;
        }
    }

    private synchronized void onTimer() {
        timer = null;
        if (alarmRunning) {
            rearm();
        }
    }

    private void checkAlarm() {
        if (alarmRunning && alarmNanos - nowNanos() <= 0) {
            cancelTimer();
            fire();
        }
    }

    private void fire() {
        alarmRunning = false;
        irqPending = true;
        updateIrq();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void updateIrq() {
        boolean level = irqPending && irqEnabled;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    /** Cancels a pending alarm timer (the machine is being destroyed). */
    public synchronized void close() {
        cancelTimer();
    }

    /** Current state for a snapshot. */
    public synchronized GoldfishRtcState state() {
        checkAlarm();
        return new GoldfishRtcState(offsetNanos, alarmNanos, alarmRunning, irqEnabled, irqPending, timeHigh);
    }

    /** Restores a snapshot, re-arms the alarm against the current time and re-drives the interrupt line. */
    public synchronized void restore(GoldfishRtcState s) {
        offsetNanos = s.offsetNanos();
        alarmNanos = s.alarmNanos();
        alarmRunning = s.alarmRunning();
        irqEnabled = s.irqEnabled();
        irqPending = s.irqPending();
        timeHigh = s.timeHigh();
        rearm();
        irqLevel = irqPending && irqEnabled;
        irq.set(irqLevel);
    }

    /** One daemon thread for all RTC alarms in the process; it only ever runs short callbacks. */
    private static final class SharedScheduler {
        static final ScheduledExecutorService INSTANCE = create();

        private static ScheduledExecutorService create() {
            ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "goldfish-rtc-alarm");
                t.setDaemon(true);
                return t;
            });
            s.setRemoveOnCancelPolicy(true);
            return s;
        }
    }
}
