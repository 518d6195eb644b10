// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineListener;

/** Creates machines. The only way in: everything behind it is package-private. */
public final class Machines {
    private Machines() {
    }

    /**
     * Validates the boot images, allocates guest RAM, assembles the virt machine and loads kernel, initramfs and
     * device tree. The machine is not running until {@link Machine#start()}.
     *
     * @throws BootException with one clear message when the kernel or ramdisk is missing or invalid or does not fit
     */
    public static Machine create(MachineConfig config, MachineListener listener) {
        BootTrace.ACTIVE.ifPresent(t -> t.mark("machine-create"));
        BootImages images = BootImages.read(config.kernel(), config.ramdisk());
        BootTrace.ACTIVE.ifPresent(t -> t.mark("images-read"));
        VirtMachine m = new VirtMachine(config, listener, images);
        BootTrace.ACTIVE.ifPresent(t -> t.mark("machine-built"));
        return m;
    }

    /**
     * Rebuilds a machine from a validated snapshot for {@code config} (the snapshot's own, or a compatible one with
     * other host paths). Kernel and initramfs are not read. Not running until {@link Machine#start()}.
     *
     * @throws BootException when the snapshot does not fit the configuration or a device cannot be opened
     * @throws dev.domus.xen.snapshot.SnapshotException when the RAM section changed since validation
     */
    public static Machine restore(MachineConfig config, MachineListener listener,
                                  dev.domus.xen.snapshot.MachineImage snapshot) {
        return new VirtMachine(config, listener, null, null, snapshot);
    }

    /**
     * Builds a machine whose RAM comes from {@code image} but whose vCPU and device state is applied later with
     * {@link Machine#restoreState} (an incoming live migration: devices and threads are ready before the state).
     * {@code image.state()} is not called.
     */
    public static Machine prepare(MachineConfig config, MachineListener listener,
                                  dev.domus.xen.snapshot.MachineImage image) {
        return new VirtMachine(config, listener, null, null, image, true);
    }

    /** A finished bare-metal run: the program's exit code (HTIF tohost) and its signature region. */
    public record BareMetalResult(java.util.Optional<dev.domus.xen.api.ExitReason> exit, byte[] signature,
                                  long instructions) { }

    /**
     * Runs a bare-metal RV64 ELF program in M-mode without firmware until it writes an exit code to its
     * {@code tohost} symbol (HTIF convention of riscv-tests and the architecture test suite) or the timeout passes.
     */
    public static BareMetalResult runBareMetal(java.nio.file.Path elf, int memoryMiB, int harts,
                                               java.time.Duration timeout, MachineListener listener)
            throws InterruptedException {
        byte[] bytes;
        try {
            bytes = java.nio.file.Files.readAllBytes(elf);
        } catch (java.io.IOException e) {
            throw new BootException("cannot read " + elf + ": " + e.getMessage(), e);
        }
        ElfImage image = ElfImage.parse(elf.toString(), bytes);
        MachineConfig cfg = new MachineConfig("baremetal", memoryMiB, harts, elf, java.util.Optional.empty(), "", 0);
        VirtMachine m = new VirtMachine(cfg, listener, null, image);
        m.start();
        java.util.Optional<dev.domus.xen.api.ExitReason> r = m.awaitExit(timeout);
        m.destroy();
        m.awaitExit(java.time.Duration.ofSeconds(5));
        return new BareMetalResult(r, m.signature(), m.info().instructions());
    }
}
