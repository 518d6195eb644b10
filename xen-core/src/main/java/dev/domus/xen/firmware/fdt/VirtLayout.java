// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware.fdt;

import dev.domus.xen.devices.rtc.GoldfishRtcDevice;
import dev.domus.xen.devices.uart.Uart16550Device;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What varies between virt machines, as far as the device tree is concerned. Validated on construction.
 *
 * @param harts        number of harts (1..512)
 * @param ramBase      guest-physical base of RAM (normally 0x8000_0000)
 * @param ramSize      RAM size in bytes (positive, 4 KiB multiple)
 * @param bootargs     kernel command line (may be empty)
 * @param initrdStart  guest-physical start of the initramfs, or 0 with {@code initrdEnd} 0 for none
 * @param initrdEnd    guest-physical end (exclusive) of the initramfs
 * @param virtioSlots  virtio-mmio windows to describe, in order
 * @param controlUart  whether to describe the Domus control-channel UART at 0x1000_0100 (irq 12)
 */
public record VirtLayout(int harts, long ramBase, long ramSize, String bootargs, long initrdStart, long initrdEnd,
                         List<VirtioSlot> virtioSlots, boolean controlUart) {
    /** Highest hart count described (the PLIC window holds far more contexts; this bounds the tree's size). */
    public static final int MAX_HARTS = 512;

    public VirtLayout {
        if (harts < 1 || harts > MAX_HARTS) {
            throw new IllegalArgumentException("harts must be 1.." + MAX_HARTS + ", got " + harts);
        }
        if (ramSize <= 0 || (ramSize & 0xfff) != 0 || (ramBase & 0xfff) != 0) {
            throw new IllegalArgumentException(String.format(
                    "RAM must be a positive, 4 KiB aligned range, got base 0x%x size 0x%x", ramBase, ramSize));
        }
        if (ramBase + ramSize < ramBase) {
            throw new IllegalArgumentException(String.format("RAM 0x%x+0x%x wraps around", ramBase, ramSize));
        }
        if (bootargs == null) {
            throw new IllegalArgumentException("bootargs must not be null (use \"\")");
        }
        if (initrdStart != 0 || initrdEnd != 0) {
            boolean inRam = Long.compareUnsigned(initrdStart, ramBase) >= 0
                    && Long.compareUnsigned(initrdEnd, ramBase + ramSize) <= 0;
            if (Long.compareUnsigned(initrdStart, initrdEnd) >= 0 || !inRam) {
                throw new IllegalArgumentException(String.format(
                        "initrd 0x%x..0x%x must be a non-empty range inside RAM 0x%x..0x%x", initrdStart,
                        initrdEnd, ramBase, ramBase + ramSize));
            }
        }
        virtioSlots = List.copyOf(virtioSlots);
        Set<Integer> irqs = new HashSet<>(Set.of(Uart16550Device.CONSOLE_IRQ, GoldfishRtcDevice.IRQ,
                Uart16550Device.CONTROL_IRQ));
        Set<Long> bases = new HashSet<>();
        for (VirtioSlot s : virtioSlots) {
            if (!irqs.add(s.irq())) {
                throw new IllegalArgumentException("virtio slot irq " + s.irq() + " is already in use");
            }
            if (!bases.add(s.base())) {
                throw new IllegalArgumentException(String.format("virtio slot base 0x%x is used twice", s.base()));
            }
        }
    }

    /** Whether an initramfs is described. */
    public boolean hasInitrd() {
        return initrdEnd != 0;
    }
}
