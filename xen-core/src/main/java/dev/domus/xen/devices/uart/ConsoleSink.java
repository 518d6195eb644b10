// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.uart;

/**
 * Where a UART's transmitted bytes go. Called on a vCPU thread with the UART's lock held, once per byte: an
 * implementation must be cheap and must not block or throw (buffer, and do I/O in bulk or on another thread).
 */
@FunctionalInterface
public interface ConsoleSink {
    /** Accepts one transmitted byte (the low 8 bits of {@code b}). */
    void write(int b);

    /** A sink that drops everything. */
    ConsoleSink DISCARD = b -> { };
}
