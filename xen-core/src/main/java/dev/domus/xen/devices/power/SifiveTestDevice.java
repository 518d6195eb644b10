// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.power;

import dev.domus.xen.bus.MmioDevice;

/**
 * The SiFive test device ("sifive,test0"/"sifive,test1"), which Linux drives through syscon-poweroff and
 * syscon-reboot. A write at offset 0 is decoded by its low 16 bits: {@code 0x5555} powers off with exit code
 * {@code value >>> 16}, {@code 0x3333} reports failure with code {@code value >>> 16}, {@code 0x7777} resets;
 * anything else is ignored. 2-, 4- and 8-byte writes are accepted (the value is truncated to 32 bits); reads
 * return zero.
 */
public final class SifiveTestDevice implements MmioDevice {
    /** Guest-physical base of the window on the virt machine. */
    public static final long BASE = 0x0010_0000L;
    /** Window size. */
    public static final long SIZE = 0x1000;
    /** Status values (low 16 bits of the written word). */
    public static final int FAIL = 0x3333;
    public static final int PASS = 0x5555;
    public static final int RESET = 0x7777;

    private final PowerEvents events;

    /** A test device reporting to {@code events}. */
    public SifiveTestDevice(PowerEvents events) {
        this.events = events;
    }

    @Override
    public long size() {
        return SIZE;
    }

    @Override
    public String name() {
        return "test";
    }

    @Override
    public long read(long offset, int width) {
        return 0;
    }

    @Override
    public void write(long offset, int width, long value) {
        if (offset != 0 || width < 2) {
            return;
        }
        int v = width == 2 ? (int) (value & 0xffff) : (int) value;
        int code = v >>> 16;
        switch (v & 0xffff) {
            case PASS -> events.powerOff(code);
            case FAIL -> events.fail(code);
            case RESET -> events.reset();
            default -> {
                // unknown status: ignored, like the hardware
            }
        }
    }

    /** Current state for a snapshot (there is none). */
    public SifiveTestState state() {
        return new SifiveTestState();
    }

    /** Restores a snapshot (nothing to do). */
    public void restore(SifiveTestState state) {
        // stateless
    }
}
