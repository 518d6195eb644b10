// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware.fdt;

/**
 * One virtio-mmio transport window in the device tree.
 *
 * @param base guest-physical base of the 4 KiB register window
 * @param irq  PLIC source (1..63, not one of the platform devices' 10, 11, 12)
 */
public record VirtioSlot(long base, int irq) {
    /** Size of a virtio-mmio window. */
    public static final long SIZE = 0x1000;
    /** Base of slot 0 on the virt machine; slot n is at {@code FIRST_BASE + n * SIZE}. */
    public static final long FIRST_BASE = 0x1000_1000L;
    /** Number of slots the virt layout provides (IRQs 1..8). */
    public static final int SLOTS = 8;

    public VirtioSlot {
        if ((base & (SIZE - 1)) != 0) {
            throw new IllegalArgumentException(String.format("virtio slot base must be 4 KiB aligned, got 0x%x", base));
        }
        if (irq < 1 || irq > 63) {
            throw new IllegalArgumentException("virtio slot irq must be 1..63, got " + irq);
        }
    }

    /** The standard slot {@code n} (0..7): base {@code 0x10001000 + n * 0x1000}, irq {@code n + 1}. */
    public static VirtioSlot standard(int n) {
        if (n < 0 || n >= SLOTS) {
            throw new IllegalArgumentException("virtio slot number must be 0.." + (SLOTS - 1) + ", got " + n);
        }
        return new VirtioSlot(FIRST_BASE + n * SIZE, n + 1);
    }
}
