// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

import java.util.Arrays;

/**
 * Snapshot of the PLIC. Bit {@code s} of a mask is source {@code s}; bit 0 is always clear.
 *
 * @param priorities per-source priority, index = source (length {@link Plic#SOURCES} + 1)
 * @param levels     input lines currently asserted
 * @param claimed    sources claimed by some context and not yet completed
 * @param enables    per-context enable masks, index = context (2 per hart: M then S)
 * @param thresholds per-context priority thresholds
 */
public record PlicState(int[] priorities, long levels, long claimed, long[] enables, int[] thresholds) {
    public PlicState {
        if (priorities.length != Plic.SOURCES + 1) {
            throw new IllegalArgumentException(
                    "PLIC state needs " + (Plic.SOURCES + 1) + " priorities, got " + priorities.length);
        }
        if (enables.length != thresholds.length) {
            throw new IllegalArgumentException("PLIC state has " + enables.length + " enable masks but "
                    + thresholds.length + " thresholds");
        }
        priorities = priorities.clone();
        enables = enables.clone();
        thresholds = thresholds.clone();
    }

    @Override
    public int[] priorities() {
        return priorities.clone();
    }

    @Override
    public long[] enables() {
        return enables.clone();
    }

    @Override
    public int[] thresholds() {
        return thresholds.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PlicState s && levels == s.levels && claimed == s.claimed
                && Arrays.equals(priorities, s.priorities) && Arrays.equals(enables, s.enables)
                && Arrays.equals(thresholds, s.thresholds);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new long[] {
            Arrays.hashCode(priorities), levels, claimed, Arrays.hashCode(enables), Arrays.hashCode(thresholds)});
    }

    @Override
    public String toString() {
        return "PlicState[priorities=" + Arrays.toString(priorities) + ", levels=0x" + Long.toHexString(levels)
                + ", claimed=0x" + Long.toHexString(claimed) + ", enables=" + Arrays.toString(enables)
                + ", thresholds=" + Arrays.toString(thresholds) + "]";
    }
}
