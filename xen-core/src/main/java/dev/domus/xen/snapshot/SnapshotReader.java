// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.devices.irq.ClintState;
import dev.domus.xen.devices.irq.PlicState;
import dev.domus.xen.devices.rtc.GoldfishRtcState;
import dev.domus.xen.devices.uart.Uart16550State;
import dev.domus.xen.memory.GuestMemory;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/** Validating reader of {@link Snapshots} files. */
final class SnapshotReader {
    private static final int PAGE = (int) GuestMemory.PAGE_SIZE;
    private static final int CHUNK = 1 << 20;

    private SnapshotReader() {
    }

    static SnapshotImage read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch);
        } catch (NoSuchFileException e) {
            throw new SnapshotException("snapshot " + file + " does not exist");
        } catch (IOException e) {
            throw new SnapshotException("cannot read snapshot " + file + ": " + e.getMessage(), e);
        }
    }

    private static SnapshotException bad(Path file, String what) {
        return new SnapshotException("invalid snapshot " + file + ": " + what);
    }

    private static SnapshotImage read(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < Snapshots.HEADER) {
            throw bad(file, "file is " + size + " bytes, shorter than the " + Snapshots.HEADER + "-byte header");
        }
        ByteBuffer h = ByteBuffer.allocate(Snapshots.HEADER);
        readFully(ch, h, 0);
        h.flip();
        byte[] magic = new byte[8];
        h.get(magic);
        if (!Arrays.equals(magic, Snapshots.MAGIC)) {
            throw bad(file, "not a Domus snapshot (bad magic)");
        }
        int version = h.getInt();
        if (version != Snapshots.FORMAT_VERSION) {
            throw bad(file, "format version " + version + " is not supported (this build reads version "
                    + Snapshots.FORMAT_VERSION + ")");
        }
        int count = h.getInt();
        if (count < 1 || count > Snapshots.MAX_SECTIONS) {
            throw bad(file, "section count " + count + " is outside 1.." + Snapshots.MAX_SECTIONS);
        }
        long total = h.getLong();
        int headerCrc = h.getInt();
        if (total != size) {
            throw bad(file, total > size ? "file is truncated: header says " + total + " bytes, file has " + size
                    : "file has " + (size - total) + " trailing bytes after the " + total + " the header declares");
        }
        long tableEnd = Snapshots.HEADER + (long) count * Snapshots.ENTRY;
        if (tableEnd > size) {
            throw bad(file, "section table of " + count + " entries does not fit in the file");
        }
        ByteBuffer all = ByteBuffer.allocate((int) tableEnd);
        readFully(ch, all, 0);
        if (Snapshots.headerCrc(all.array()) != headerCrc) {
            throw bad(file, "header or section table checksum mismatch");
        }
        all.position(Snapshots.HEADER);
        List<Snapshots.Entry> entries = new ArrayList<>();
        long prevEnd = tableEnd;
        for (int i = 0; i < count; i++) {
            int typeId = all.getShort() & 0xffff;
            int instance = all.getShort() & 0xffff;
            int recVersion = all.getInt();
            long off = all.getLong();
            long len = all.getLong();
            int crc = all.getInt();
            all.getInt();
            SectionType type = SectionType.byId(typeId).orElseThrow(() -> bad(file, "unknown section type "
                    + typeId));
            String label = type.label(instance);
            if (recVersion != type.recordVersion) {
                throw bad(file, "section " + label + " has record version " + recVersion + ", expected "
                        + type.recordVersion);
            }
            if (len < 0 || len > type.maxLength) {
                throw bad(file, "section " + label + " length " + len + " exceeds the limit " + type.maxLength);
            }
            if (off != prevEnd || off + len > size || off + len < off) {
                throw bad(file, "section " + label + " at " + off + "+" + len + " is out of place (file "
                        + size + " bytes)");
            }
            prevEnd = off + len;
            entries.add(new Snapshots.Entry(type, instance, recVersion, off, len, crc));
        }
        if (prevEnd != size) {
            throw bad(file, (size - prevEnd) + " bytes after the last section");
        }
        Map<SectionType, List<Snapshots.Entry>> byType = new EnumMap<>(SectionType.class);
        for (Snapshots.Entry e : entries) {
            byType.computeIfAbsent(e.type(), t -> new ArrayList<>()).add(e);
        }
        for (SectionType t : List.of(SectionType.CONFIG, SectionType.CLOCK, SectionType.CLINT, SectionType.PLIC,
                SectionType.RTC, SectionType.RAM)) {
            int n = byType.getOrDefault(t, List.of()).size();
            if (n != 1) {
                throw bad(file, n == 0 ? "section " + t.label(0) + " is missing" : "section " + t.label(0)
                        + " appears " + n + " times");
            }
        }
        if (byType.getOrDefault(SectionType.DOMAIN, List.of()).size() > 1) {
            throw bad(file, "section domain appears more than once");
        }
        MachineConfig config = Codec.decode(in(file, ch, one(byType, SectionType.CONFIG)), Codec::config);
        Snapshots.Entry ramEntry = one(byType, SectionType.RAM);
        long maxRam = Snapshots.maxRamSection(config);
        if (ramEntry.length() > maxRam) {
            throw bad(file, "RAM section of " + ramEntry.length() + " bytes is larger than " + config.memoryMiB()
                    + " MiB of RAM can need (" + maxRam + ")");
        }
        byte[] domain = byType.containsKey(SectionType.DOMAIN)
                ? Codec.decode(in(file, ch, one(byType, SectionType.DOMAIN)), in -> {
                    byte[] b = new byte[in.remainingBytes()];
                    in.rest(b);
                    return b;
                })
                : new byte[0];
        long mtime = Codec.decode(in(file, ch, one(byType, SectionType.CLOCK)), Codec.In::i64);
        List<VcpuState> vcpus = new ArrayList<>();
        for (Snapshots.Entry e : instances(file, byType, SectionType.VCPU, config.vcpus())) {
            vcpus.add(Codec.decode(in(file, ch, e), Codec::vcpu));
        }
        ClintState clint = Codec.decode(in(file, ch, one(byType, SectionType.CLINT)), Codec::clint);
        PlicState plic = Codec.decode(in(file, ch, one(byType, SectionType.PLIC)), Codec::plic);
        List<Uart16550State> uarts = new ArrayList<>();
        for (Snapshots.Entry e : instances(file, byType, SectionType.UART, 2)) {
            uarts.add(Codec.decode(in(file, ch, e), Codec::uart));
        }
        GoldfishRtcState rtc = Codec.decode(in(file, ch, one(byType, SectionType.RTC)), Codec::rtc);
        int slots = config.disks().size() + config.nics().size() + 2;
        List<VirtioSlotState> virtio = new ArrayList<>();
        for (Snapshots.Entry e : instances(file, byType, SectionType.VIRTIO, slots)) {
            virtio.add(Codec.decode(in(file, ch, e), Codec::virtio));
        }
        MachineState state;
        try {
            state = new MachineState(config, domain, mtime, vcpus, clint, plic, uarts, rtc, virtio);
        } catch (IllegalArgumentException e) {
            throw bad(file, "inconsistent machine state: " + e.getMessage());
        }
        long pages = checkRam(file, ch, ramEntry, config);
        return new SnapshotImage(file, state, ramEntry, pages, size);
    }

    private static Snapshots.Entry one(Map<SectionType, List<Snapshots.Entry>> byType, SectionType t) {
        return byType.get(t).getFirst();
    }

    private static List<Snapshots.Entry> instances(Path file, Map<SectionType, List<Snapshots.Entry>> byType,
                                                   SectionType t, int expected) {
        List<Snapshots.Entry> list = byType.getOrDefault(t, List.of());
        if (list.size() != expected) {
            throw bad(file, "expected " + expected + " " + t.name().toLowerCase(java.util.Locale.ROOT)
                    + " sections for this configuration, found " + list.size());
        }
        Snapshots.Entry[] ordered = new Snapshots.Entry[expected];
        for (Snapshots.Entry e : list) {
            if (e.instance() >= expected || ordered[e.instance()] != null) {
                throw bad(file, "section " + e.label() + " is duplicated or out of range");
            }
            ordered[e.instance()] = e;
        }
        return List.of(ordered);
    }

    /** Reads a small section (its length was checked against the type's limit) and verifies its CRC. */
    private static Codec.In in(Path file, FileChannel ch, Snapshots.Entry e) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) e.length());
        readFully(ch, b, e.offset());
        CRC32C crc = new CRC32C();
        crc.update(b.array());
        if ((int) crc.getValue() != e.crc()) {
            throw bad(file, "section " + e.label() + " checksum mismatch");
        }
        return new Codec.In(b.flip(), e.label());
    }

    /** Checks the RAM section's header and length, then streams it once for its CRC; returns non-zero pages. */
    private static long checkRam(Path file, FileChannel ch, Snapshots.Entry e, MachineConfig config)
            throws IOException {
        long expectSize = (long) config.memoryMiB() << 20;
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        long pos = e.offset();
        long end = e.offset() + e.length();
        while (pos < end) {
            buf.clear().limit((int) Math.min(CHUNK, end - pos));
            readFully(ch, buf, pos);
            buf.flip();
            pos += buf.remaining();
            crc.update(buf);
        }
        if ((int) crc.getValue() != e.crc()) {
            throw bad(file, "section ram checksum mismatch");
        }
        return ramLayout(file, ch, e, expectSize)[0];
    }

    /** Validates the RAM header and bitmap against the section length; returns {non-zero pages}. */
    private static long[] ramLayout(Path file, FileChannel ch, Snapshots.Entry e, long expectSize)
            throws IOException {
        if (e.length() < Snapshots.RAM_HEADER) {
            throw bad(file, "section ram is shorter than its header");
        }
        ByteBuffer h = ByteBuffer.allocate(Snapshots.RAM_HEADER);
        readFully(ch, h, e.offset());
        h.flip();
        long base = h.getLong();
        long ramSize = h.getLong();
        int page = h.getInt();
        int flags = h.getInt();
        if (page != PAGE || flags != 0) {
            throw bad(file, "section ram has page size " + page + " and flags " + flags + " (expected " + PAGE
                    + " and 0)");
        }
        if (ramSize != expectSize) {
            throw bad(file, "RAM is " + ramSize + " bytes but the configuration says " + expectSize);
        }
        if (base != 0x8000_0000L) {
            throw bad(file, "RAM base 0x" + Long.toHexString(base) + " is not 0x80000000");
        }
        long pages = ramSize / PAGE;
        long bitmapLen = (pages + 7) / 8;
        if (e.length() < Snapshots.RAM_HEADER + bitmapLen) {
            throw bad(file, "section ram is too short for its page bitmap");
        }
        ByteBuffer bm = ByteBuffer.allocate((int) bitmapLen);
        readFully(ch, bm, e.offset() + Snapshots.RAM_HEADER);
        long nonZero = 0;
        for (byte b : bm.array()) {
            nonZero += Integer.bitCount(b & 0xff);
        }
        long expectLen = Snapshots.RAM_HEADER + bitmapLen + nonZero * PAGE;
        if (e.length() != expectLen) {
            throw bad(file, "section ram is " + e.length() + " bytes but its bitmap lists " + nonZero
                    + " pages (" + expectLen + " bytes)");
        }
        return new long[] {nonZero};
    }

    static void loadRam(Path file, Snapshots.Entry e, GuestMemory memory) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ramLayout(file, ch, e, memory.size());
            long pages = memory.size() / PAGE;
            int bitmapLen = (int) ((pages + 7) / 8);
            ByteBuffer h = ByteBuffer.allocate(Snapshots.RAM_HEADER + bitmapLen);
            readFully(ch, h, e.offset());
            byte[] head = h.array();
            CRC32C crc = new CRC32C();
            crc.update(head);
            long pos = e.offset() + head.length;
            MemorySegment seg = memory.segment();
            for (long p = 0; p < pages; p++) {
                if ((head[Snapshots.RAM_HEADER + (int) (p >>> 3)] & (1 << (p & 7))) == 0) {
                    continue;
                }
                ByteBuffer dst = seg.asSlice(p * PAGE, PAGE).asByteBuffer();
                readFully(ch, dst, pos);
                pos += PAGE;
                dst.flip();
                crc.update(dst);
            }
            if ((int) crc.getValue() != e.crc()) {
                throw bad(file, "section ram changed since it was validated (checksum mismatch)");
            }
            memory.deviceWrote(0, memory.size());
        } catch (IOException ex) {
            throw new SnapshotException("cannot read RAM from snapshot " + file + ": " + ex.getMessage(), ex);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        long at = pos;
        while (b.hasRemaining()) {
            int n = ch.read(b, at);
            if (n < 0) {
                throw new IOException("unexpected end of file at " + at);
            }
            at += n;
        }
    }
}
