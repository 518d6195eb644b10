// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

import java.util.Arrays;

/**
 * Snapshot of the CLINT: per-hart {@code msip} bits and {@code mtimecmp} values. {@code mtime} itself belongs to
 * {@link MachineClock} and is saved with it.
 *
 * @param msip     bit 0 of each hart's msip register (0 or 1), index = hart
 * @param mtimecmp each hart's timer compare value, index = hart
 */
public record ClintState(int[] msip, long[] mtimecmp) {
    public ClintState {
        if (msip.length != mtimecmp.length) {
            throw new IllegalArgumentException(
                    "msip and mtimecmp must cover the same harts, got " + msip.length + " and " + mtimecmp.length);
        }
        msip = msip.clone();
        mtimecmp = mtimecmp.clone();
    }

    @Override
    public int[] msip() {
        return msip.clone();
    }

    @Override
    public long[] mtimecmp() {
        return mtimecmp.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClintState s && Arrays.equals(msip, s.msip) && Arrays.equals(mtimecmp, s.mtimecmp);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(msip) + Arrays.hashCode(mtimecmp);
    }

    @Override
    public String toString() {
        return "ClintState[msip=" + Arrays.toString(msip) + ", mtimecmp=" + Arrays.toString(mtimecmp) + "]";
    }
}
