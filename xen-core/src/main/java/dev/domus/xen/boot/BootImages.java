// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** The kernel and optional initramfs read from disk and validated, before any guest RAM is allocated. */
record BootImages(KernelImage kernel, Optional<byte[]> initrd) {
    /** Upper bound for a kernel or initramfs file, checked before reading it. */
    static final long MAX_FILE = 1L << 30;

    static BootImages read(Path kernel, Optional<Path> initrd) {
        KernelImage k = KernelImage.parse(kernel.toString(), readFile("kernel", kernel));
        Optional<byte[]> rd = initrd.map(p -> readFile("ramdisk", p));
        return new BootImages(k, rd);
    }

    private static byte[] readFile(String what, Path p) {
        try {
            long size = Files.size(p);
            if (size > MAX_FILE) {
                throw new BootException(what + " " + p + " is too large: " + size + " bytes (limit 1 GiB)");
            }
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new BootException(what + " " + p + " does not exist");
        } catch (IOException e) {
            throw new BootException("cannot read " + what + " " + p + ": " + e.getMessage(), e);
        }
    }
}
