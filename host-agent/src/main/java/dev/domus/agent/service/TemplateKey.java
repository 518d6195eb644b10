// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What a template snapshot depends on: a clone restored from it must have been booted from the same kernel and
 * initramfs ({@code imageSum}), with the same RAM, vCPUs, root disk size (the kernel read the disk's capacity at
 * probe), console, and by the same domain runner code ({@code runnerSum}: the snapshot format and device models).
 *
 * @param image     catalog image name ({@code [A-Za-z0-9_.-]{1,64}}, safe in file names)
 * @param imageSum  sha256 of the image's kernel and initramfs
 * @param memoryMb  guest RAM
 * @param vcpus     vCPUs
 * @param diskGb    root disk size
 * @param console   kernel console argument (e.g. {@code console=hvc1})
 * @param runnerSum sha256 of the xen-core code the runners execute
 */
record TemplateKey(String image, String imageSum, int memoryMb, int vcpus, int diskGb, String console,
                   String runnerSum) {
    TemplateKey {
        if (image == null || !image.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("image must be a catalog name, got " + image);
        }
        if (memoryMb < 1 || vcpus < 1 || diskGb < 1) {
            throw new IllegalArgumentException("memory, vcpus and disk must be positive");
        }
    }

    /** 20 hex digits of the sha256 of every field: the file name part (the domain name is "tpl-" + id). */
    String id() {
        String canonical = String.join("\n", "domus-template 1", image, imageSum, Integer.toString(memoryMb),
                Integer.toString(vcpus), Integer.toString(diskGb), console, runnerSum);
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing", e);
        }
    }

    /**
     * {@code <image>.<shape>.<id>.snap}: image and shape in the name let a rebuild find the stale templates of the
     * same image and shape (an older kernel, initramfs or runner) without reading anything.
     */
    String fileName() {
        return shapePrefix() + id() + ".snap";
    }

    /** {@code <image>.<memory>m<vcpus>c<disk>g.} */
    String shapePrefix() {
        return image + "." + memoryMb + "m" + vcpus + "c" + diskGb + "g.";
    }

    /** For logs: key=value pairs. */
    String describe() {
        return "image=" + image + " memory_mb=" + memoryMb + " vcpus=" + vcpus + " disk_gb=" + diskGb + " template="
                + id();
    }
}
