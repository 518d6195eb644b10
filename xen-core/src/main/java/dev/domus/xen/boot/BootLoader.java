// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.memory.GuestMemory;

/**
 * Lays out guest RAM for a Linux boot: the kernel at RAM + text_offset (2 MiB aligned, as the RISC-V boot protocol
 * requires), the device tree in the last 64 KiB of RAM and the initramfs right below it. Refuses layouts that do
 * not fit with a message saying how much memory is needed.
 */
final class BootLoader {
    /** Space reserved for the device tree at the top of RAM. */
    static final long FDT_RESERVED = 64 * 1024;
    /** Headroom the kernel needs above its image for early page tables and allocations. */
    static final long KERNEL_HEADROOM = 8L << 20;

    private BootLoader() {
    }

    static long fdtAddress(GuestMemory ram) {
        return ram.base() + ram.size() - FDT_RESERVED;
    }

    /** Loads kernel, initramfs and device tree; returns the kernel entry address. */
    static long load(GuestMemory ram, BootImages images, MachineConfig config, int harts,
                     java.util.List<dev.domus.xen.firmware.fdt.VirtioSlot> virtio) {
        KernelImage k = images.kernel();
        long kernelAddr = ram.base() + k.textOffset();
        long kernelEnd = kernelAddr + Math.max(k.imageSize(), k.bytes().length);
        long fdtAddr = fdtAddress(ram);
        long initrdLen = images.initrd().map(b -> (long) b.length).orElse(0L);
        long initrdStart = (fdtAddr - initrdLen) & ~0xfffL;
        long needed = (kernelEnd - ram.base()) + KERNEL_HEADROOM + initrdLen + FDT_RESERVED;
        if (needed > ram.size()) {
            long mib = (needed + (1 << 20) - 1) >> 20;
            throw new BootException("memory " + config.memoryMiB() + " MiB is too small for kernel ("
                    + (k.imageSize() >> 10) + " KiB) + initramfs (" + (initrdLen >> 10) + " KiB): need at least "
                    + Math.max(mib, MachineConfig.MIN_MEMORY_MIB) + " MiB");
        }
        ram.write(kernelAddr - ram.base(), k.bytes(), 0, k.bytes().length);
        if (initrdLen > 0) {
            byte[] rd = images.initrd().orElseThrow();
            ram.write(initrdStart - ram.base(), rd, 0, rd.length);
        }
        byte[] fdt = DeviceTrees.virt(harts, ram.base(), ram.size(), config.cmdline(),
                initrdLen > 0 ? initrdStart : 0, initrdLen > 0 ? initrdStart + initrdLen : 0, virtio);
        if (fdt.length > FDT_RESERVED) {
            throw new BootException("device tree too large: " + fdt.length + " bytes");
        }
        ram.write(fdtAddr - ram.base(), fdt, 0, fdt.length);
        return kernelAddr;
    }
}
