// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.memory.GuestMemory;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes and reads snapshot files (format in {@code xen-core/docs/snapshot-format.md}).
 *
 * <p>Layout: a 32-byte header (magic, format version, section count, file length, header CRC32C), a table of
 * 32-byte section entries (type, instance, record version, offset, length, CRC32C), then the sections. A file is
 * written to a temporary name next to the target and renamed into place, so a crash never leaves a half snapshot
 * under the real name.
 */
public final class Snapshots {
    static final byte[] MAGIC = "DOMUSNAP".getBytes(StandardCharsets.US_ASCII);
    /** Format version this code writes and the only one it reads. */
    public static final int FORMAT_VERSION = 1;
    static final int HEADER = 32;
    static final int ENTRY = 32;
    static final int MAX_SECTIONS = 64;
    static final int RAM_HEADER = 24;
    private static final int PAGE = (int) GuestMemory.PAGE_SIZE;
    private static final MemorySegment ZERO_PAGE = MemorySegment.ofArray(new byte[PAGE]);

    private Snapshots() {
    }

    /** A table entry. */
    record Entry(SectionType type, int instance, int recordVersion, long offset, long length, int crc) {
        String label() {
            return type.label(instance);
        }
    }

    /**
     * Writes {@code state} and the RAM of a paused machine to {@code file} atomically.
     *
     * @return bytes written
     * @throws SnapshotException naming the file and the I/O error
     */
    public static long write(Path file, MachineState state, GuestMemory ram) {
        return write(file, state, ram.base(), ram.size(), ram.segment());
    }

    /**
     * A checkpoint of a running machine: snapshot bytes, how long the guest was paused (vCPUs stopped to resumed),
     * the dirty rounds copied while it ran and the pages copied in the pause.
     */
    public record Checkpointed(long bytes, long pausedMicros, int rounds, long finalPages) { }

    /**
     * Writes a snapshot of the running {@code machine} with a short pause: RAM is pre-copied into a scratch image
     * while the guest runs, only the last dirty pages and the device state are taken paused ({@code Checkpoint}).
     * The machine runs again when this returns, also on failure.
     *
     * @throws SnapshotException naming the file and the problem
     */
    public static Checkpointed checkpoint(Path file, dev.domus.xen.api.Machine machine, byte[] domain) {
        return Checkpoint.write(file, machine, domain);
    }

    /** Like {@link #write(Path, MachineState, GuestMemory)} with RAM {@code [base, base + size)} read from {@code seg}. */
    static long write(Path file, MachineState state, long base, long size, MemorySegment seg) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
            long written;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                written = write(ch, state, base, size, seg);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            return written;
        } catch (IOException e) {
            throw new SnapshotException("cannot write snapshot " + file + ": " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // best effort
                }
            }
        }
    }

    private static long write(FileChannel ch, MachineState s, long base, long size, MemorySegment seg)
            throws IOException {
        List<Object[]> small = new ArrayList<>();
        small.add(new Object[] {SectionType.CONFIG, 0, Codec.config(s.config())});
        if (s.domain().length > 0) {
            small.add(new Object[] {SectionType.DOMAIN, 0, s.domain()});
        }
        small.add(new Object[] {SectionType.CLOCK, 0, new Codec.Out().i64(s.mtime()).toBytes()});
        for (int i = 0; i < s.vcpus().size(); i++) {
            small.add(new Object[] {SectionType.VCPU, i, Codec.vcpu(s.vcpus().get(i))});
        }
        small.add(new Object[] {SectionType.CLINT, 0, Codec.clint(s.clint())});
        small.add(new Object[] {SectionType.PLIC, 0, Codec.plic(s.plic())});
        for (int i = 0; i < s.uarts().size(); i++) {
            small.add(new Object[] {SectionType.UART, i, Codec.uart(s.uarts().get(i))});
        }
        small.add(new Object[] {SectionType.RTC, 0, Codec.rtc(s.rtc())});
        for (int i = 0; i < s.virtio().size(); i++) {
            small.add(new Object[] {SectionType.VIRTIO, i, Codec.virtio(s.virtio().get(i))});
        }
        int count = small.size() + 1;
        long pos = HEADER + (long) count * ENTRY;
        List<Entry> entries = new ArrayList<>();
        for (Object[] sec : small) {
            byte[] body = (byte[]) sec[2];
            SectionType t = (SectionType) sec[0];
            writeFully(ch, ByteBuffer.wrap(body), pos);
            CRC32C crc = new CRC32C();
            crc.update(body);
            entries.add(new Entry(t, (Integer) sec[1], t.recordVersion, pos, body.length, (int) crc.getValue()));
            pos += body.length;
        }
        long ramStart = pos;
        CRC32C crc = new CRC32C();
        long ramLen = writeRam(ch, base, size, seg, pos, crc);
        entries.add(new Entry(SectionType.RAM, 0, SectionType.RAM.recordVersion, ramStart, ramLen,
                (int) crc.getValue()));
        long total = ramStart + ramLen;
        ByteBuffer head = ByteBuffer.allocate(HEADER + count * ENTRY);
        head.put(MAGIC).putInt(FORMAT_VERSION).putInt(count).putLong(total).putInt(0).putInt(0);
        for (Entry e : entries) {
            head.putShort((short) e.type().id).putShort((short) e.instance()).putInt(e.recordVersion())
                    .putLong(e.offset()).putLong(e.length()).putInt(e.crc()).putInt(0);
        }
        head.putInt(24, headerCrc(head.array()));
        writeFully(ch, head.flip(), 0);
        return total;
    }

    /** CRC32C of the header (with its CRC field taken as zero) and the table. */
    static int headerCrc(byte[] headAndTable) {
        CRC32C c = new CRC32C();
        c.update(headAndTable, 0, 24);
        c.update(new byte[4]);
        c.update(headAndTable, 28, headAndTable.length - 28);
        return (int) c.getValue();
    }

    /** RAM section: base, size, page size, flags, bitmap of non-zero pages, then those pages in order. */
    private static long writeRam(FileChannel ch, long base, long size, MemorySegment seg, long pos, CRC32C crc)
            throws IOException {
        long pages = size / PAGE;
        byte[] bitmap = new byte[(int) ((pages + 7) / 8)];
        long nonZero = 0;
        for (long p = 0; p < pages; p++) {
            if (seg.asSlice(p * PAGE, PAGE).mismatch(ZERO_PAGE) != -1) {
                bitmap[(int) (p >>> 3)] |= (byte) (1 << (p & 7));
                nonZero++;
            }
        }
        ByteBuffer h = ByteBuffer.allocate(RAM_HEADER);
        h.putLong(base).putLong(size).putInt(PAGE).putInt(0).flip();
        crc.update(h.duplicate());
        long at = pos;
        at += writeFully(ch, h, at);
        crc.update(bitmap);
        at += writeFully(ch, ByteBuffer.wrap(bitmap), at);
        long p = 0;
        while (p < pages) {
            if ((bitmap[(int) (p >>> 3)] & (1 << (p & 7))) == 0) {
                p++;
                continue;
            }
            long run = p;
            while (run < pages && run - p < 256 && (bitmap[(int) (run >>> 3)] & (1 << (run & 7))) != 0) {
                run++;
            }
            ByteBuffer data = seg.asSlice(p * PAGE, (run - p) * PAGE).asByteBuffer();
            crc.update(data.duplicate());
            at += writeFully(ch, data, at);
            p = run;
        }
        return RAM_HEADER + bitmap.length + nonZero * PAGE;
    }

    private static long writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        long n = 0;
        while (b.hasRemaining()) {
            n += ch.write(b, pos + n);
        }
        return n;
    }

    /**
     * Opens and fully validates a snapshot: header, table, every section's CRC (RAM included, streamed) and every
     * record. Nothing proportional to a length in the file is allocated before that length was checked.
     *
     * @throws SnapshotException one clear message saying what is wrong
     */
    public static SnapshotImage read(Path file) {
        return SnapshotReader.read(file);
    }

    /** The largest RAM section a machine of {@code config} can have: header, full bitmap, every page present. */
    static long maxRamSection(MachineConfig config) {
        long pages = ((long) config.memoryMiB() << 20) / PAGE;
        return RAM_HEADER + (pages + 7) / 8 + pages * PAGE;
    }

    /** Largest encoded machine state {@link #decodeState} accepts. */
    public static final int MAX_STATE_BYTES = 4 << 20;

    /**
     * The machine state as one byte string (the sections of a snapshot file minus RAM, each length-prefixed with
     * its type, instance and CRC32C), for the live migration stream.
     */
    public static byte[] encodeState(MachineState s) {
        Codec.Out o = new Codec.Out();
        List<Object[]> secs = new ArrayList<>();
        secs.add(new Object[] {SectionType.CONFIG, 0, Codec.config(s.config())});
        secs.add(new Object[] {SectionType.DOMAIN, 0, s.domain()});
        secs.add(new Object[] {SectionType.CLOCK, 0, new Codec.Out().i64(s.mtime()).toBytes()});
        for (int i = 0; i < s.vcpus().size(); i++) {
            secs.add(new Object[] {SectionType.VCPU, i, Codec.vcpu(s.vcpus().get(i))});
        }
        secs.add(new Object[] {SectionType.CLINT, 0, Codec.clint(s.clint())});
        secs.add(new Object[] {SectionType.PLIC, 0, Codec.plic(s.plic())});
        for (int i = 0; i < s.uarts().size(); i++) {
            secs.add(new Object[] {SectionType.UART, i, Codec.uart(s.uarts().get(i))});
        }
        secs.add(new Object[] {SectionType.RTC, 0, Codec.rtc(s.rtc())});
        for (int i = 0; i < s.virtio().size(); i++) {
            secs.add(new Object[] {SectionType.VIRTIO, i, Codec.virtio(s.virtio().get(i))});
        }
        o.i32(FORMAT_VERSION).i32(secs.size());
        for (Object[] sec : secs) {
            byte[] body = (byte[]) sec[2];
            CRC32C crc = new CRC32C();
            crc.update(body);
            o.i32(((SectionType) sec[0]).id).i32((Integer) sec[1]).i32((int) crc.getValue()).bytes(body);
        }
        return o.toBytes();
    }

    /**
     * Decodes and validates {@link #encodeState} output with the same limits and checks as a snapshot file.
     *
     * @throws SnapshotException one clear message
     */
    public static MachineState decodeState(byte[] bytes) {
        if (bytes.length > MAX_STATE_BYTES) {
            throw new SnapshotException("machine state of " + bytes.length + " bytes exceeds " + MAX_STATE_BYTES);
        }
        Codec.In in = new Codec.In(ByteBuffer.wrap(bytes), "state");
        int version = in.i32();
        if (version != FORMAT_VERSION) {
            throw new SnapshotException("machine state format version " + version + " is not supported");
        }
        int n = in.listSize(MAX_SECTIONS, "section");
        java.util.Map<String, Codec.In> byLabel = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) {
            int type = in.i32();
            int instance = in.i32();
            int crc = in.i32();
            SectionType t = SectionType.byId(type).orElseThrow(() -> new SnapshotException(
                    "unknown section type " + type + " in machine state"));
            byte[] body = in.bytes(MAX_STATE_BYTES, t.label(instance));
            CRC32C c = new CRC32C();
            c.update(body);
            if ((int) c.getValue() != crc) {
                throw new SnapshotException("section " + t.label(instance) + " checksum mismatch");
            }
            if (byLabel.put(t.label(instance), new Codec.In(ByteBuffer.wrap(body), t.label(instance))) != null) {
                throw new SnapshotException("section " + t.label(instance) + " appears twice");
            }
        }
        in.end();
        MachineConfig config = Codec.decode(need(byLabel, "config"), Codec::config);
        Codec.In dom = need(byLabel, "domain");
        byte[] domain = new byte[dom.remainingBytes()];
        dom.rest(domain);
        long mtime = Codec.decode(need(byLabel, "clock"), Codec.In::i64);
        List<VcpuState> vcpus = new ArrayList<>();
        for (int i = 0; i < config.vcpus(); i++) {
            vcpus.add(Codec.decode(need(byLabel, SectionType.VCPU.label(i)), Codec::vcpu));
        }
        var clint = Codec.decode(need(byLabel, "clint"), Codec::clint);
        var plic = Codec.decode(need(byLabel, "plic"), Codec::plic);
        List<dev.domus.xen.devices.uart.Uart16550State> uarts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            uarts.add(Codec.decode(need(byLabel, SectionType.UART.label(i)), Codec::uart));
        }
        var rtc = Codec.decode(need(byLabel, "rtc"), Codec::rtc);
        List<VirtioSlotState> virtio = new ArrayList<>();
        int slots = config.disks().size() + config.nics().size() + 2;
        for (int i = 0; i < slots; i++) {
            virtio.add(Codec.decode(need(byLabel, SectionType.VIRTIO.label(i)), Codec::virtio));
        }
        if (byLabel.size() != 8 + config.vcpus() + slots) {
            throw new SnapshotException("machine state has " + byLabel.size() + " sections, expected "
                    + (8 + config.vcpus() + slots));
        }
        try {
            return new MachineState(config, domain, mtime, vcpus, clint, plic, uarts, rtc, virtio);
        } catch (IllegalArgumentException e) {
            throw new SnapshotException("inconsistent machine state: " + e.getMessage());
        }
    }

    private static Codec.In need(java.util.Map<String, Codec.In> m, String label) {
        Codec.In in = m.get(label);
        if (in == null) {
            throw new SnapshotException("machine state lacks section " + label);
        }
        return in;
    }

    /** The machine configuration as the snapshot CONFIG record (the migration handshake compares them). */
    public static byte[] encodeConfig(MachineConfig c) {
        return Codec.config(c);
    }

    public static MachineConfig decodeConfig(byte[] b) {
        return Codec.decode(new Codec.In(ByteBuffer.wrap(b), "config"), Codec::config);
    }
}
