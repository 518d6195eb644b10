// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.api.DiskConfig;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.NicConfig;
import dev.domus.xen.cpu.HartState;
import dev.domus.xen.devices.irq.ClintState;
import dev.domus.xen.devices.irq.Plic;
import dev.domus.xen.devices.irq.PlicState;
import dev.domus.xen.devices.rtc.GoldfishRtcState;
import dev.domus.xen.devices.uart.Uart16550State;
import dev.domus.xen.devices.virtio.transport.QueueState;
import dev.domus.xen.devices.virtio.transport.VirtioMmioState;
import dev.domus.xen.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trip of the snapshot format and one clear error for every kind of damaged or hostile file. */
class SnapshotFormatTest {
    private static final long BASE = 0x8000_0000L;
    private static final int MIB = 16;

    @TempDir
    Path dir;
    private GuestMemory ram;
    private MachineState state;
    private Path file;

    @BeforeEach
    void setUp() throws Exception {
        ram = GuestMemory.allocate(BASE, (long) MIB << 20);
        // A few non-zero pages scattered over RAM, the rest stays zero and must be elided.
        for (int p : new int[] {0, 1, 7, 100, 4095}) {
            for (int i = 0; i < 4096; i += 8) {
                ram.storeLong((long) p * 4096 + i, 0x1234_5678_0000_0000L + p * 4096L + i);
            }
        }
        state = sampleState(2);
        file = dir.resolve("dom.snap");
        Snapshots.write(file, state, ram);
    }

    @AfterEach
    void tearDown() {
        ram.close();
    }

    static MachineState sampleState(int vcpus) {
        MachineConfig cfg = new MachineConfig("snap1", MIB, vcpus, Path.of("/k/Image"), Optional.of(Path.of("/k/rd")),
                "console=ttyS0", 50, List.of(new DiskConfig(Path.of("/d/root.img"), false, "vda")),
                List.of(new NicConfig("52:54:00:12:34:56", "vif1.0", Optional.of("br0"))));
        List<VcpuState> v = new ArrayList<>();
        for (int h = 0; h < vcpus; h++) {
            long[] x = new long[32];
            long[] f = new long[32];
            for (int i = 1; i < 32; i++) {
                x[i] = i * 0x1111L + h;
                f[i] = Double.doubleToRawLongBits(i / 3.0);
            }
            long[] csrs = new long[HartState.CSR_NAMES.size()];
            for (int i = 0; i < csrs.length; i++) {
                csrs[i] = 0xabc0L + i;
            }
            long[] pmpaddr = new long[64];
            pmpaddr[0] = -1;
            v.add(new VcpuState(new HartState(0x8020_0000L + h, 1, x, f, 2, 5, csrs, pmpaddr, new long[8], 0x20,
                    false, h == 1), h == 0 ? 0 : 1, 0, 0));
        }
        int[] prio = new int[Plic.SOURCES + 1];
        prio[10] = 1;
        PlicState plic = new PlicState(prio, 0, 0, new long[2 * vcpus], new int[2 * vcpus]);
        List<Uart16550State> uarts = List.of(new Uart16550State(1, 3, 8, 0xc1, 0, 1, false, 0, false, "ab".getBytes()),
                new Uart16550State(0, 3, 0, 0, 0, 1, false, 0, false, new byte[0]));
        List<QueueState> one = List.of(new QueueState(128, 0x8100_0000L, 0x8100_0800L, 0x8100_1000L, true, 5, 5));
        List<QueueState> two = List.of(new QueueState(256, 0x8200_0000L, 0x8200_1000L, 0x8200_2000L, true, 9, 8),
                new QueueState(0, 0, 0, 0, false, 0, 0));
        List<VirtioSlotState> virtio = List.of(
                new VirtioSlotState(2, new VirtioMmioState(0xf, 1L << 32, 0, 0, one), new byte[0]),
                new VirtioSlotState(1, new VirtioMmioState(0xf, 1L << 32 | 32, 1, 0, two), new byte[0]),
                new VirtioSlotState(3, new VirtioMmioState(0xf, 1L << 32, 0, 0, two), "ls\n".getBytes()),
                new VirtioSlotState(4, new VirtioMmioState(0xf, 1L << 32, 0, 0, one), new byte[0]));
        return new MachineState(cfg, "{\"name\":\"snap1\"}".getBytes(), 123_456_789L, v,
                new ClintState(new int[vcpus], new long[vcpus]), plic, uarts,
                new GoldfishRtcState(5_000L, 0, false, false, false, 0), virtio);
    }

    @Test
    void roundTripRestoresStateAndRamAndElidesZeroPages() throws Exception {
        SnapshotImage img = Snapshots.read(file);
        assertThat(img.state()).isEqualTo(state);
        assertThat(img.nonZeroPages()).isEqualTo(5);
        assertThat(Files.size(file)).isLessThan(5 * 4096 + 64 * 1024);
        try (GuestMemory copy = GuestMemory.allocate(BASE, (long) MIB << 20)) {
            img.loadRam(copy);
            assertThat(copy.segment().mismatch(ram.segment())).isEqualTo(-1);
        }
    }

    @Test
    void writeIsAtomicAndLeavesNoTemporaryFile() throws Exception {
        Snapshots.write(file, state, ram);
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("dom.snap");
        }
    }

    @Test
    void truncatedAtEverySectionBoundaryIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(file);
        List<long[]> table = table(b);
        List<Long> cuts = new ArrayList<>(List.of(0L, 10L, 31L, 32L, 40L));
        for (long[] e : table) {
            cuts.add(e[3]);
            cuts.add(e[3] + e[4] / 2);
        }
        cuts.add((long) b.length - 1);
        for (long cut : cuts) {
            Path t = dir.resolve("cut-" + cut);
            Files.write(t, Arrays.copyOf(b, (int) cut));
            assertThatThrownBy(() -> Snapshots.read(t)).as("cut at %d", cut).isInstanceOf(SnapshotException.class)
                    .hasMessageMatching("(?s).*(truncated|shorter than).*");
        }
    }

    @Test
    void bitFlipInAnySectionIsRefusedByItsChecksum() throws Exception {
        byte[] b = Files.readAllBytes(file);
        for (long[] e : table(b)) {
            for (long at : new long[] {e[3], e[3] + e[4] / 2, e[3] + e[4] - 1}) {
                byte[] c = b.clone();
                c[(int) at] ^= 0x10;
                Path t = dir.resolve("flip-" + at);
                Files.write(t, c);
                assertThatThrownBy(() -> Snapshots.read(t)).isInstanceOf(SnapshotException.class)
                        .hasMessageContaining("checksum mismatch");
            }
        }
        for (int at : new int[] {20, 24, 40, 60, 32 + 31}) {
            byte[] c = b.clone();
            c[at] ^= 0x01;
            Path t = dir.resolve("hflip-" + at);
            Files.write(t, c);
            assertThatThrownBy(() -> Snapshots.read(t)).isInstanceOf(SnapshotException.class)
                    .hasMessageMatching("(?s).*(checksum mismatch|truncated|trailing).*");
        }
    }

    @Test
    void wrongMagicAndVersionAreRefused() throws Exception {
        byte[] b = Files.readAllBytes(file);
        byte[] m = b.clone();
        m[0] = 'X';
        Files.write(dir.resolve("m"), m);
        assertThatThrownBy(() -> Snapshots.read(dir.resolve("m"))).hasMessageContaining("bad magic");
        byte[] v = b.clone();
        ByteBuffer.wrap(v).putInt(8, 2);
        Files.write(dir.resolve("v"), v);
        assertThatThrownBy(() -> Snapshots.read(dir.resolve("v")))
                .hasMessageContaining("format version 2 is not supported");
        assertThatThrownBy(() -> Snapshots.read(dir.resolve("missing"))).hasMessageContaining("does not exist");
    }

    @Test
    void oversizedCountsAndLengthsAreRefusedBeforeAllocation() throws Exception {
        byte[] b = Files.readAllBytes(file);
        // Section count far beyond the limit.
        byte[] c = b.clone();
        ByteBuffer.wrap(c).putInt(12, 1_000_000);
        Files.write(dir.resolve("count"), c);
        assertThatThrownBy(() -> Snapshots.read(dir.resolve("count"))).hasMessageContaining("section count 1000000");
        // A section length of 1 TiB with a valid header checksum.
        byte[] l = b.clone();
        ByteBuffer.wrap(l).putLong(32 + 16, 1L << 40);
        fixHeaderCrc(l);
        Files.write(dir.resolve("len"), l);
        assertThatThrownBy(() -> Snapshots.read(dir.resolve("len"))).hasMessageContaining("exceeds the limit");
        // A register count of 2^30 inside a vCPU record with valid checksums everywhere.
        byte[] vcpu = Codec.vcpu(state.vcpus().get(0));
        ByteBuffer.wrap(vcpu).putInt(12, 1 << 30);
        Path t = dir.resolve("regs");
        Files.write(t, replaceSection(b, SectionType.VCPU.id, 0, vcpu));
        assertThatThrownBy(() -> Snapshots.read(t)).hasMessageContaining("section vcpu[0]")
                .hasMessageContaining("count 1073741824");
        // A UART input far larger than its FIFO.
        byte[] uart = new Codec.Out().i32(0).i32(0).i32(0).i32(0).i32(0).i32(1).bool(false).i32(0).bool(false)
                .bytes(new byte[5000]).toBytes();
        Path u = dir.resolve("uart");
        Files.write(u, replaceSection(b, SectionType.UART.id, 0, uart));
        assertThatThrownBy(() -> Snapshots.read(u)).hasMessageContaining("section uart[0]");
    }

    @Test
    void configThatDoesNotMatchTheContentIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(file);
        MachineConfig c = state.config();
        MachineConfig bigger = new MachineConfig(c.name(), 32, c.vcpus(), c.kernel(), c.ramdisk(), c.cmdline(),
                c.cpuCapPercent(), c.disks(), c.nics());
        Path t = dir.resolve("mem");
        Files.write(t, replaceSection(b, SectionType.CONFIG.id, 0, Codec.config(bigger)));
        assertThatThrownBy(() -> Snapshots.read(t)).hasMessageContaining("configuration says");
        MachineConfig threeCpus = new MachineConfig(c.name(), c.memoryMiB(), 3, c.kernel(), c.ramdisk(), c.cmdline(),
                c.cpuCapPercent(), c.disks(), c.nics());
        Path v = dir.resolve("cpus");
        Files.write(v, replaceSection(b, SectionType.CONFIG.id, 0, Codec.config(threeCpus)));
        assertThatThrownBy(() -> Snapshots.read(v)).hasMessageContaining("expected 3 vcpu sections");
        MachineConfig noNic = new MachineConfig(c.name(), c.memoryMiB(), c.vcpus(), c.kernel(), c.ramdisk(),
                c.cmdline(), c.cpuCapPercent(), c.disks(), List.of());
        Path n = dir.resolve("nics");
        Files.write(n, replaceSection(b, SectionType.CONFIG.id, 0, Codec.config(noNic)));
        assertThatThrownBy(() -> Snapshots.read(n)).hasMessageContaining("virtio sections");
        // A malformed value inside a record (an invalid privilege level).
        byte[] vcpu = Codec.vcpu(state.vcpus().get(0));
        ByteBuffer.wrap(vcpu).putInt(8, 2);
        Path p = dir.resolve("priv");
        Files.write(p, replaceSection(b, SectionType.VCPU.id, 0, vcpu));
        assertThatThrownBy(() -> Snapshots.read(p)).hasMessageContaining("privilege must be");
    }

    // ---- helpers that build valid-checksum files with one chosen section replaced

    /** Table rows: {type, instance, version, offset, length, crc}. */
    static List<long[]> table(byte[] b) {
        ByteBuffer h = ByteBuffer.wrap(b);
        int n = h.getInt(12);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int at = 32 + i * 32;
            out.add(new long[] {h.getShort(at) & 0xffff, h.getShort(at + 2) & 0xffff, h.getInt(at + 4),
                    h.getLong(at + 8), h.getLong(at + 16), h.getInt(at + 24)});
        }
        return out;
    }

    static void fixHeaderCrc(byte[] b) {
        int n = ByteBuffer.wrap(b).getInt(12);
        byte[] head = Arrays.copyOf(b, 32 + n * 32);
        ByteBuffer.wrap(b).putInt(24, Snapshots.headerCrc(head));
    }

    static byte[] replaceSection(byte[] b, int type, int instance, byte[] body) {
        List<long[]> t = table(b);
        int n = t.size();
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(32 + n * 32);
        head.put(b, 0, 32);
        long pos = 32 + n * 32L;
        for (long[] e : t) {
            byte[] sec = e[0] == type && e[1] == instance ? body
                    : Arrays.copyOfRange(b, (int) e[3], (int) (e[3] + e[4]));
            CRC32C crc = new CRC32C();
            crc.update(sec);
            head.putShort((short) e[0]).putShort((short) e[1]).putInt((int) e[2]).putLong(pos).putLong(sec.length)
                    .putInt((int) crc.getValue()).putInt(0);
            data.writeBytes(sec);
            pos += sec.length;
        }
        byte[] out = new byte[(int) pos];
        System.arraycopy(head.array(), 0, out, 0, head.capacity());
        System.arraycopy(data.toByteArray(), 0, out, head.capacity(), data.size());
        ByteBuffer.wrap(out).putLong(16, pos);
        fixHeaderCrc(out);
        return out;
    }
}
