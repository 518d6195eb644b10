// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

/** A level-triggered interrupt wire from a device to an interrupt controller input (a PLIC source). */
@FunctionalInterface
public interface IrqLine {
    /** Drives the line: true = asserted. Idempotent; safe from any thread. */
    void set(boolean level);

    /** A line connected to nothing. */
    IrqLine NONE = level -> { };
}
