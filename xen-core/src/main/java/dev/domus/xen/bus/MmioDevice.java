// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.bus;

/**
 * A device register window on the system bus. The bus passes offsets relative to the window base, never absolute
 * addresses, and only widths of 1, 2, 4 or 8 bytes with {@code offset + width <= size()}.
 *
 * <p>Implementations are called from vCPU threads (possibly several at once) and must never throw: a register that
 * does not exist reads as zero and ignores writes. Guest-controlled values are untrusted.
 */
public interface MmioDevice {
    /** Size of the register window in bytes. */
    long size();

    /** Reads {@code width} bytes at {@code offset}; the value is zero-extended. */
    long read(long offset, int width);

    /** Writes the low {@code width} bytes of {@code value} at {@code offset}. */
    void write(long offset, int width, long value);

    /** Short name for logs and the device tree ("uart", "plic"...). */
    default String name() {
        return getClass().getSimpleName();
    }
}
