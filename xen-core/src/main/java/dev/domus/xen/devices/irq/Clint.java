// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

import dev.domus.xen.bus.MmioDevice;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Core-local interruptor (SiFive CLINT layout): machine software interrupts and the machine timer.
 *
 * <ul>
 *   <li>{@code 0x0000 + 4*h}: msip of hart h (32-bit, only bit 0 is writable); drives mip.MSIP.</li>
 *   <li>{@code 0x4000 + 8*h}: mtimecmp of hart h (64-bit; either 32-bit half may be accessed alone). A write sets
 *       mip.MTIP to {@code mtime >= mtimecmp}; reset value is all ones (never fires).</li>
 *   <li>{@code 0xBFF8}: mtime (64-bit), read from and written to the shared {@link MachineClock}.</li>
 * </ul>
 *
 * <p>Time passing does not raise MTIP by itself: the vCPU loop polls {@link #mtimecmp(int)} (or calls
 * {@link #updateTimer(int)}) between batches and uses it to compute WFI deadlines. Reads are lock-free; writes
 * take the device lock so that the pending bit always matches the last written compare value.
 */
public final class Clint implements MmioDevice {
    /** Guest-physical base of the window on the virt machine. */
    public static final long BASE = 0x0200_0000L;
    /** Window size. */
    public static final long SIZE = 0x1_0000L;

    static final int MSIP_BASE = 0x0000;
    static final int MTIMECMP_BASE = 0x4000;
    static final int MTIME = 0xBFF8;

    private final HartInterrupts harts;
    private final MachineClock clock;
    private final int hartCount;
    private final AtomicIntegerArray msip;
    private final AtomicLongArray mtimecmp;

    /** A CLINT for all harts of {@code harts}, reading time from {@code clock}. */
    public Clint(HartInterrupts harts, MachineClock clock) {
        this.harts = harts;
        this.clock = clock;
        this.hartCount = harts.hartCount();
        if (hartCount < 1 || hartCount > 4095) {
            throw new IllegalArgumentException("CLINT supports 1..4095 harts, got " + hartCount);
        }
        this.msip = new AtomicIntegerArray(hartCount);
        this.mtimecmp = new AtomicLongArray(hartCount);
        for (int h = 0; h < hartCount; h++) {
            mtimecmp.set(h, -1L);
        }
    }

    @Override
    public long size() {
        return SIZE;
    }

    @Override
    public String name() {
        return "clint";
    }

    /** The compare value of {@code hart} (all ones for an out-of-range hart, which never fires). */
    public long mtimecmp(int hart) {
        return hart >= 0 && hart < hartCount ? mtimecmp.get(hart) : -1L;
    }

    /**
     * Re-evaluates mip.MTIP of {@code hart} against the current time and returns it. Called by the vCPU loop when
     * its deadline passes; cheap enough to call between batches.
     */
    public boolean updateTimer(int hart) {
        if (hart < 0 || hart >= hartCount) {
            return false;
        }
        boolean due = Long.compareUnsigned(clock.mtime(), mtimecmp.get(hart)) >= 0;
        harts.setPending(hart, HartInterrupts.MTIP, due);
        return due;
    }

    @Override
    public long read(long offset, int width) {
        if (offset >= MSIP_BASE && offset < MSIP_BASE + 4L * hartCount) {
            int hart = (int) ((offset - MSIP_BASE) >>> 2);
            return lane(msip.get(hart), offset & 3, width);
        }
        if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + 8L * hartCount) {
            int hart = (int) ((offset - MTIMECMP_BASE) >>> 3);
            return lane(mtimecmp.get(hart), offset & 7, width);
        }
        if (offset >= MTIME && offset < MTIME + 8) {
            return lane(clock.mtime(), offset - MTIME, width);
        }
        return 0;
    }

    @Override
    public synchronized void write(long offset, int width, long value) {
        if (offset >= MSIP_BASE && offset < MSIP_BASE + 4L * hartCount) {
            if ((offset & 3) == 0) {
                int hart = (int) ((offset - MSIP_BASE) >>> 2);
                int bit = (int) (value & 1);
                msip.set(hart, bit);
                harts.setPending(hart, HartInterrupts.MSIP, bit != 0);
            }
        } else if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + 8L * hartCount) {
            int hart = (int) ((offset - MTIMECMP_BASE) >>> 3);
            mtimecmp.set(hart, merge(mtimecmp.get(hart), offset & 7, width, value));
            updateTimer(hart);
        } else if (offset >= MTIME && offset < MTIME + 8) {
            clock.setMtime(merge(clock.mtime(), offset - MTIME, width, value));
            for (int h = 0; h < hartCount; h++) {
                updateTimer(h);
            }
        }
    }

    /** Current state for a snapshot. */
    public synchronized ClintState state() {
        int[] m = new int[hartCount];
        long[] c = new long[hartCount];
        for (int h = 0; h < hartCount; h++) {
            m[h] = msip.get(h);
            c[h] = mtimecmp.get(h);
        }
        return new ClintState(m, c);
    }

    /** Restores a snapshot taken from a CLINT with the same hart count and re-drives MSIP/MTIP. */
    public synchronized void restore(ClintState state) {
        int[] m = state.msip();
        long[] c = state.mtimecmp();
        if (m.length != hartCount) {
            throw new IllegalArgumentException("CLINT state is for " + m.length + " harts, machine has " + hartCount);
        }
        for (int h = 0; h < hartCount; h++) {
            msip.set(h, m[h] & 1);
            mtimecmp.set(h, c[h]);
            harts.setPending(h, HartInterrupts.MSIP, (m[h] & 1) != 0);
            updateTimer(h);
        }
    }

    /** The {@code width} bytes at byte {@code shift} of a little-endian register value. */
    private static long lane(long reg, long shift, int width) {
        long v = reg >>> (8 * shift);
        return width >= 8 ? v : v & ((1L << (8 * width)) - 1);
    }

    /** {@code reg} with the {@code width} bytes at byte {@code shift} replaced by the low bytes of {@code value}. */
    private static long merge(long reg, long shift, int width, long value) {
        if (shift + width > 8) {
            width = (int) (8 - shift);
        }
        long mask = width >= 8 ? -1L : ((1L << (8 * width)) - 1);
        int s = (int) (8 * shift);
        return (reg & ~(mask << s)) | ((value & mask) << s);
    }
}
