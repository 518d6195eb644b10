// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.firmware.fdt.VirtDeviceTree;
import dev.domus.xen.firmware.fdt.VirtLayout;
import dev.domus.xen.firmware.fdt.VirtioSlot;

import java.security.SecureRandom;
import java.util.List;

/** Builds the device tree of the machines this package assembles. */
final class DeviceTrees {
    private DeviceTrees() {
    }

    static byte[] virt(int harts, long ramBase, long ramSize, String bootargs, long initrdStart, long initrdEnd,
                       List<VirtioSlot> virtio) {
        byte[] seed = new byte[32];
        new SecureRandom().nextBytes(seed);
        return VirtDeviceTree.build(new VirtLayout(harts, ramBase, ramSize, bootargs, initrdStart, initrdEnd,
                virtio, true), seed);
    }
}
