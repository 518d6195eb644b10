// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * One virtio-blk disk of a machine.
 *
 * @param image    raw image file (sparse files are fine); its size, rounded down to 512 bytes, is the capacity
 * @param readOnly whether the guest sees a read-only disk
 * @param target   guest device name {@code vda}..{@code vdz}; documents the intended order (disks occupy the
 *                 virtio slots in list order, which is the order Linux names them)
 */
public record DiskConfig(Path image, boolean readOnly, String target) {
    private static final Pattern TARGET = Pattern.compile("vd[a-z]");

    public DiskConfig {
        if (image == null) {
            throw new IllegalArgumentException("disk image must be set");
        }
        if (target == null || !TARGET.matcher(target).matches()) {
            throw new IllegalArgumentException("disk target must be vda..vdz, got '" + target + "'");
        }
    }
}
