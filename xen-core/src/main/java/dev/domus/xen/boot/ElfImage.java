// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A statically linked RV64 ELF executable (bare-metal test programs such as ISA conformance suites): loadable
 * segments and the symbol table. Every offset and size is checked against the file before use.
 */
public final class ElfImage {
    /** One PT_LOAD segment. */
    public record Segment(long address, byte[] data, long memSize) { }

    private static final int EM_RISCV = 243;
    private final long entry;
    private final List<Segment> segments;
    private final Map<String, Long> symbols;

    private ElfImage(long entry, List<Segment> segments, Map<String, Long> symbols) {
        this.entry = entry;
        this.segments = segments;
        this.symbols = symbols;
    }

    public long entry() { return entry; }

    public List<Segment> segments() { return segments; }

    public Optional<Long> symbol(String name) {
        return Optional.ofNullable(symbols.get(name));
    }

    public static ElfImage parse(String name, byte[] b) {
        try {
            return parse0(name, b);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new BootException(name + ": malformed ELF file (" + e.getMessage() + ")");
        }
    }

    private static ElfImage parse0(String name, byte[] b) {
        if (b.length < 64 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F') {
            throw new BootException(name + " is not an ELF file");
        }
        if (b[4] != 2 || b[5] != 1) {
            throw new BootException(name + " is not a 64-bit little-endian ELF file");
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (h.getShort(18) != EM_RISCV) {
            throw new BootException(name + " is not a RISC-V ELF file (e_machine " + h.getShort(18) + ")");
        }
        long entry = h.getLong(24);
        long phoff = h.getLong(32);
        long shoff = h.getLong(40);
        int phentsize = h.getShort(54) & 0xffff;
        int phnum = h.getShort(56) & 0xffff;
        int shentsize = h.getShort(58) & 0xffff;
        int shnum = h.getShort(60) & 0xffff;
        List<Segment> segs = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int p = checked(b, phoff + (long) i * phentsize, 56);
            if (h.getInt(p) != 1) { // PT_LOAD
                continue;
            }
            long off = h.getLong(p + 8);
            long paddr = h.getLong(p + 24);
            long filesz = h.getLong(p + 32);
            long memsz = h.getLong(p + 40);
            if (filesz > memsz || memsz > (1L << 32)) {
                throw new BootException(name + ": segment " + i + " has bad sizes");
            }
            int start = checked(b, off, filesz);
            byte[] data = new byte[(int) filesz];
            System.arraycopy(b, start, data, 0, data.length);
            segs.add(new Segment(paddr, data, memsz));
        }
        Map<String, Long> syms = new HashMap<>();
        for (int i = 0; i < shnum && shentsize >= 64; i++) {
            int s = checked(b, shoff + (long) i * shentsize, 64);
            if (h.getInt(s + 4) != 2) { // SHT_SYMTAB
                continue;
            }
            long symOff = h.getLong(s + 24);
            long symSize = h.getLong(s + 32);
            int link = h.getInt(s + 40);
            int strHdr = checked(b, shoff + (long) link * shentsize, 64);
            long strOff = h.getLong(strHdr + 24);
            long strSize = h.getLong(strHdr + 32);
            checked(b, strOff, strSize);
            for (long e = 0; e + 24 <= symSize; e += 24) {
                int sym = checked(b, symOff + e, 24);
                long nameOff = h.getInt(sym) & 0xffffffffL;
                if (nameOff == 0 || nameOff >= strSize) {
                    continue;
                }
                int from = (int) (strOff + nameOff);
                int to = from;
                while (to < strOff + strSize && b[to] != 0) {
                    to++;
                }
                syms.put(new String(b, from, to - from, java.nio.charset.StandardCharsets.US_ASCII),
                        h.getLong(sym + 8));
            }
        }
        if (segs.isEmpty()) {
            throw new BootException(name + ": no loadable segments");
        }
        return new ElfImage(entry, List.copyOf(segs), Map.copyOf(syms));
    }

    private static int checked(byte[] b, long off, long len) {
        if (off < 0 || len < 0 || off > b.length || len > b.length - off) {
            throw new IllegalArgumentException("offset " + off + "+" + len + " outside the file");
        }
        return (int) off;
    }
}
