// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.power;

import dev.domus.xen.bus.MmioDevice;

/**
 * The QEMU pvpanic device, MMIO flavour ("qemu,pvpanic-mmio"): one 8-bit register at offset 0. Reading it returns
 * the events the host understands (bit 0 PANICKED, bit 1 CRASH_LOADED); writing bit 0 reports a kernel panic,
 * bit 1 (alone) a panic with a crash kernel loaded. Other bits (for example a later shutdown event) are ignored.
 * Any access width is accepted and acts on the register at offset 0.
 */
public final class PvPanicDevice implements MmioDevice {
    /** Guest-physical base of the window on the virt machine. */
    public static final long BASE = 0x0010_2000L;
    /** Window size. */
    public static final long SIZE = 0x1000;
    /** Event bits. */
    public static final int PANICKED = 0x1;
    public static final int CRASH_LOADED = 0x2;

    private final PowerEvents events;

    /** A pvpanic device reporting to {@code events}. */
    public PvPanicDevice(PowerEvents events) {
        this.events = events;
    }

    @Override
    public long size() {
        return SIZE;
    }

    @Override
    public String name() {
        return "pvpanic";
    }

    @Override
    public long read(long offset, int width) {
        return offset == 0 ? PANICKED | CRASH_LOADED : 0;
    }

    @Override
    public void write(long offset, int width, long value) {
        if (offset != 0) {
            return;
        }
        if ((value & PANICKED) != 0) {
            events.crash("guest kernel panic (pvpanic)");
        } else if ((value & CRASH_LOADED) != 0) {
            events.crashLoaded();
        }
    }

    /** Current state for a snapshot (there is none). */
    public PvPanicState state() {
        return new PvPanicState();
    }

    /** Restores a snapshot (nothing to do). */
    public void restore(PvPanicState state) {
        // stateless
    }
}
