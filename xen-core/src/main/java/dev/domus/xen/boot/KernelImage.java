// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A RISC-V Linux {@code Image} as described by its 64-byte header (Documentation/riscv/boot-image-header.rst):
 * text_offset at 8, image_size at 16, magic "RISCV\0\0\0" at 48 and "RSC\x05" at 56. Validated before loading.
 */
record KernelImage(byte[] bytes, long textOffset, long imageSize) {
    static final int HEADER_SIZE = 64;
    private static final long MAGIC = 0x0000_0056_4353_4952L; // "RISCV\0\0\0" little-endian
    private static final int MAGIC2 = 0x0543_5352; // "RSC\x05"

    static KernelImage parse(String name, byte[] b) {
        if (b.length < HEADER_SIZE) {
            throw new BootException(name + " is not a RISC-V Linux Image: only " + b.length + " bytes");
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (h.getLong(48) != MAGIC && h.getInt(56) != MAGIC2) {
            if (b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F') {
                throw new BootException(name + " is an ELF file, not a RISC-V Linux Image (use arch/riscv/boot/Image)");
            }
            throw new BootException(name + " is not a RISC-V Linux Image: header magic missing");
        }
        long textOffset = h.getLong(8);
        long imageSize = h.getLong(16);
        if (textOffset < 0 || textOffset > (64L << 20) || (textOffset & 0xfff) != 0) {
            throw new BootException(name + ": implausible text_offset 0x" + Long.toHexString(textOffset));
        }
        if (imageSize < b.length || imageSize > (1L << 31)) {
            imageSize = b.length;
        }
        return new KernelImage(b, textOffset == 0 ? 0x200000 : textOffset, imageSize);
    }
}
