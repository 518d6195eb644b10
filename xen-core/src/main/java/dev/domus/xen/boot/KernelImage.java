// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A RISC-V Linux {@code Image} as described by its 64-byte header (Documentation/riscv/boot-image-header.rst):
 * text_offset at 8 and image_size at 16; the magic is checked by {@link KernelHeader} before loading.
 */
record KernelImage(byte[] bytes, long textOffset, long imageSize) {

    static KernelImage parse(String name, byte[] b) {
        KernelHeader.problem(b, Math.min(b.length, KernelHeader.HEADER_SIZE)).ifPresent(p -> {
            throw new BootException(name + " " + p);
        });
        if (b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F') {
            throw new BootException(name + " is an ELF file, not a RISC-V Linux Image (use arch/riscv/boot/Image)");
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
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
