// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

/** Test double for {@link HartInterrupts}: keeps each hart's mip and counts calls. */
final class RecordingHarts implements HartInterrupts {
    private final long[] mip;
    int calls;

    RecordingHarts(int harts) {
        this.mip = new long[harts];
    }

    @Override
    public int hartCount() {
        return mip.length;
    }

    @Override
    public synchronized void setPending(int hart, int bit, boolean pending) {
        calls++;
        if (pending) {
            mip[hart] |= 1L << bit;
        } else {
            mip[hart] &= ~(1L << bit);
        }
    }

    synchronized boolean pending(int hart, int bit) {
        return (mip[hart] & (1L << bit)) != 0;
    }
}
