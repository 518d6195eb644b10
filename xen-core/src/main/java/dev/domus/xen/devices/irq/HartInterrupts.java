// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

/**
 * The interrupt-pending inputs of the harts ({@code mip} bits), as seen by interrupt controllers (CLINT, PLIC).
 * Setting a bit wakes a hart parked in WFI. Safe to call from any thread.
 */
public interface HartInterrupts {
    /** mip bit numbers (privileged spec). */
    int SSIP = 1;
    int MSIP = 3;
    int STIP = 5;
    int MTIP = 7;
    int SEIP = 9;
    int MEIP = 11;

    /** Number of harts. */
    int hartCount();

    /** Sets ({@code pending}) or clears mip bit {@code bit} of hart {@code hart}. Out-of-range harts are ignored. */
    void setPending(int hart, int bit, boolean pending);
}
