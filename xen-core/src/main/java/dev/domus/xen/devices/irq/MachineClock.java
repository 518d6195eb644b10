// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

/**
 * The platform timebase: {@code mtime} at 10 MHz, derived from the host's monotonic clock plus an offset so that a
 * restored or migrated guest sees time continue from where it stopped instead of jumping.
 */
public final class MachineClock {
    /** Timebase frequency advertised in the device tree. */
    public static final long FREQUENCY_HZ = 10_000_000L;
    private static final long NANOS_PER_TICK = 1_000_000_000L / FREQUENCY_HZ;

    private final long originNanos = System.nanoTime();
    private volatile long offsetTicks;
    private volatile long frozenAt = -1;

    /** Current mtime in ticks. */
    public long mtime() {
        long f = frozenAt;
        if (f >= 0) {
            return f;
        }
        return (System.nanoTime() - originNanos) / NANOS_PER_TICK + offsetTicks;
    }

    /** Sets the current mtime (guest write to mtime, restore). */
    public synchronized void setMtime(long ticks) {
        if (frozenAt >= 0) {
            frozenAt = ticks;
        } else {
            offsetTicks = ticks - (System.nanoTime() - originNanos) / NANOS_PER_TICK;
        }
    }

    /** Stops time while the domain is paused; {@link #resume()} continues from the same value. */
    public synchronized void freeze() {
        if (frozenAt < 0) {
            frozenAt = mtime();
        }
    }

    public synchronized void resume() {
        long f = frozenAt;
        if (f >= 0) {
            frozenAt = -1;
            setMtime(f);
        }
    }

    /** Host nanoTime at which mtime reaches {@code ticks} (for parking until a timer deadline). */
    public long nanoTimeAt(long ticks) {
        long now = mtime();
        long delta = ticks - now;
        if (delta <= 0) {
            return System.nanoTime();
        }
        if (delta > Long.MAX_VALUE / NANOS_PER_TICK / 2) {
            return System.nanoTime() + Long.MAX_VALUE / 4;
        }
        return System.nanoTime() + delta * NANOS_PER_TICK;
    }
}
