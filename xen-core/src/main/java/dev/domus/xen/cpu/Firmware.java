// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

/**
 * The machine-mode firmware implemented by the host instead of guest code: Domus's SBI, its hypercall interface.
 * When a hart has firmware attached, {@code ecall} from S-mode is handed here instead of trapping to M-mode.
 */
public interface Firmware {
    /**
     * Handles an S-mode ecall. Arguments are in a0..a7 of {@code hart}; the implementation writes a0/a1 and may
     * change hart state (stop it, start others). On entry the pc already points past the ecall; the firmware may
     * set another one (non-retentive suspend).
     */
    void ecall(Hart hart);

    /** A trap reached M-mode although firmware owns M-mode: the guest is broken beyond recovery. */
    void machineTrap(Hart hart, long cause, long tval);
}
