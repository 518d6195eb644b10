// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Recognises what the machine can boot: a RISC-V Linux {@code Image} (header magic {@code "RISCV\0\0\0"} at
 * offset 48 and {@code "RSC\x05"} at 56) or a little-endian ELF64 with {@code e_machine == EM_RISCV}. The one
 * place that judges a kernel file: the domain layer asks before it starts a runner, the boot loader before it loads.
 */
public final class KernelHeader {
    static final int HEADER_SIZE = 64;
    static final int EM_RISCV = 243;
    private static final byte[] IMAGE_MAGIC = {'R', 'I', 'S', 'C', 'V', 0, 0, 0};
    private static final byte[] IMAGE_MAGIC2 = {'R', 'S', 'C', 0x05};
    private static final byte[] ARM64_MAGIC = {'A', 'R', 'M', 0x64};

    private KernelHeader() { }

    /**
     * Checks the file's header.
     *
     * @return empty when bootable, else what is wrong (completing "kernel FILE ...")
     */
    public static Optional<String> problem(Path file) throws IOException {
        byte[] h = new byte[HEADER_SIZE];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(h, 0, h.length);
        }
        return problem(h, n);
    }

    /** {@link #problem(Path)} on the first {@code n} (at most {@value #HEADER_SIZE}) bytes of a file. */
    static Optional<String> problem(byte[] h, int n) {
        if (n >= 4 && h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F') {
            return elfProblem(h, n);
        }
        if (n >= 2 && (h[0] & 0xff) == 0x1f && (h[1] & 0xff) == 0x8b) {
            return Optional.of("is gzip-compressed; use the uncompressed arch/riscv/boot/Image");
        }
        if (n == HEADER_SIZE && matches(h, 48, IMAGE_MAGIC) && matches(h, 56, IMAGE_MAGIC2)) {
            return Optional.empty();
        }
        if (n == HEADER_SIZE && matches(h, 56, ARM64_MAGIC)) {
            return Optional.of("is an ARM64 Linux Image, not RISC-V");
        }
        return Optional.of("is not a RISC-V Linux Image (no \"RISCV\" magic at offset 48 and \"RSC\\x05\" at 56)"
                + " nor a RISC-V ELF");
    }

    private static Optional<String> elfProblem(byte[] h, int n) {
        if (n < 20) {
            return Optional.of("is a truncated ELF file");
        }
        if (h[4] != 2) {
            return Optional.of("is a 32-bit ELF; RV64 needs ELF64");
        }
        if (h[5] != 1) {
            return Optional.of("is a big-endian ELF; RISC-V is little-endian");
        }
        int machine = (h[18] & 0xff) | (h[19] & 0xff) << 8;
        if (machine != EM_RISCV) {
            return Optional.of("is an ELF for machine " + machine + ", not RISC-V (" + EM_RISCV + ")");
        }
        return Optional.empty();
    }

    private static boolean matches(byte[] h, int off, byte[] magic) {
        for (int i = 0; i < magic.length; i++) {
            if (h[off + i] != magic[i]) {
                return false;
            }
        }
        return true;
    }
}
