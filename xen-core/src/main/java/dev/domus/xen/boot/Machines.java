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
        BootImages images = BootImages.read(config.kernel(), config.ramdisk());
        return new VirtMachine(config, listener, images);
    }
}
