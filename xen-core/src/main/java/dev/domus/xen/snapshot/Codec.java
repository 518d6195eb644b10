// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.api.DiskConfig;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.NicConfig;
import dev.domus.xen.cpu.HartState;
import dev.domus.xen.devices.irq.ClintState;
import dev.domus.xen.devices.irq.PlicState;
import dev.domus.xen.devices.rtc.GoldfishRtcState;
import dev.domus.xen.devices.uart.Uart16550State;
import dev.domus.xen.devices.virtio.transport.QueueState;
import dev.domus.xen.devices.virtio.transport.VirtioMmioState;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Encodes and decodes the non-RAM section records (big-endian). Every count and length read is checked against
 * what the section can still hold and a fixed limit before an array is allocated; a record that does not consume
 * its section exactly is refused.
 */
final class Codec {
    static final int MAX_STRING = 4096;
    static final int MAX_QUEUES = 16;
    static final int MAX_LIST = 64;

    private Codec() {
    }

    // ---- writing

    static final class Out {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final DataOutputStream d = new DataOutputStream(bytes);

        Out i32(int v) { try { d.writeInt(v); } catch (IOException e) { throw new UncheckedIOException(e); } return this; }
        Out i64(long v) { try { d.writeLong(v); } catch (IOException e) { throw new UncheckedIOException(e); } return this; }
        Out bool(boolean v) { return i32(v ? 1 : 0); }

        Out bytes(byte[] b) {
            i32(b.length);
            try {
                d.write(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Out str(String s) { return bytes(s.getBytes(StandardCharsets.UTF_8)); }

        // Arrays go through one bulk view copy (a byte-swapping memory copy inside the JDK) instead of one
        // stream write per element: the state codec runs in a migration's downtime, often in a JVM that has not
        // compiled it yet, where each element write costs the interpreter dozens of calls (the hart state is
        // mostly arrays). Same big-endian bytes as before.
        Out longs(long[] a) {
            i32(a.length);
            byte[] raw = new byte[a.length * 8];
            ByteBuffer.wrap(raw).asLongBuffer().put(a);
            return raw(raw);
        }

        Out ints(int[] a) {
            i32(a.length);
            byte[] raw = new byte[a.length * 4];
            ByteBuffer.wrap(raw).asIntBuffer().put(a);
            return raw(raw);
        }

        private Out raw(byte[] raw) {
            try {
                d.write(raw);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        byte[] toBytes() { return bytes.toByteArray(); }
    }

    // ---- reading

    static final class In {
        private final ByteBuffer b;
        private final String section;

        In(ByteBuffer b, String section) {
            this.b = b;
            this.section = section;
        }

        SnapshotException bad(String what) {
            return new SnapshotException("section " + section + ": " + what);
        }

        int i32() {
            try {
                return b.getInt();
            } catch (BufferUnderflowException e) {
                throw bad("ends early");
            }
        }

        long i64() {
            try {
                return b.getLong();
            } catch (BufferUnderflowException e) {
                throw bad("ends early");
            }
        }

        boolean bool() {
            int v = i32();
            if (v != 0 && v != 1) {
                throw bad("boolean field is " + v);
            }
            return v == 1;
        }

        private int count(int elementSize, int max, String what) {
            int n = i32();
            if (n < 0 || n > max) {
                throw bad(what + " count " + n + " is outside 0.." + max);
            }
            if ((long) n * elementSize > b.remaining()) {
                throw bad(what + " count " + n + " does not fit in the " + b.remaining() + " bytes left");
            }
            return n;
        }

        byte[] bytes(int max, String what) {
            byte[] out = new byte[count(1, max, what)];
            b.get(out);
            return out;
        }

        String str(String what) {
            return new String(bytes(MAX_STRING, what), StandardCharsets.UTF_8);
        }

        long[] longs(int max, String what) {
            long[] out = new long[count(8, max, what)];
            b.slice().asLongBuffer().get(out); // bulk, see Out.longs
            b.position(b.position() + out.length * 8);
            return out;
        }

        int[] ints(int max, String what) {
            int[] out = new int[count(4, max, what)];
            b.slice().asIntBuffer().get(out);
            b.position(b.position() + out.length * 4);
            return out;
        }

        int listSize(int max, String what) {
            return count(4, max, what);
        }

        int remainingBytes() {
            return b.remaining();
        }

        void rest(byte[] out) {
            b.get(out);
        }

        void end() {
            if (b.hasRemaining()) {
                throw bad(b.remaining() + " unexpected bytes after the record");
            }
        }
    }

    /** Runs a decoder, turning record validation failures into snapshot errors naming the section. */
    static <T> T decode(In in, java.util.function.Function<In, T> f) {
        T v;
        try {
            v = f.apply(in);
        } catch (IllegalArgumentException e) {
            throw in.bad(e.getMessage());
        }
        in.end();
        return v;
    }

    // ---- sections

    static byte[] config(MachineConfig c) {
        Out o = new Out().str(c.name()).i32(c.memoryMiB()).i32(c.vcpus()).str(c.kernel().toString())
                .str(c.ramdisk().map(Path::toString).orElse("")).str(c.cmdline()).i32(c.cpuCapPercent());
        o.i32(c.disks().size());
        for (DiskConfig d : c.disks()) {
            o.str(d.image().toString()).bool(d.readOnly()).str(d.target());
        }
        o.i32(c.nics().size());
        for (NicConfig n : c.nics()) {
            o.str(n.mac()).str(n.ifname()).str(n.bridge().orElse(""));
        }
        return o.toBytes();
    }

    static MachineConfig config(In in) {
        String name = in.str("name");
        int mem = in.i32();
        int vcpus = in.i32();
        Path kernel = Path.of(in.str("kernel"));
        String rd = in.str("ramdisk");
        String cmdline = in.str("cmdline");
        int cap = in.i32();
        int nd = in.listSize(MachineConfig.MAX_DISKS_AND_NICS, "disk");
        List<DiskConfig> disks = new ArrayList<>();
        for (int i = 0; i < nd; i++) {
            disks.add(new DiskConfig(Path.of(in.str("disk image")), in.bool(), in.str("disk target")));
        }
        int nn = in.listSize(MachineConfig.MAX_DISKS_AND_NICS, "nic");
        List<NicConfig> nics = new ArrayList<>();
        for (int i = 0; i < nn; i++) {
            String mac = in.str("mac");
            String ifname = in.str("ifname");
            String bridge = in.str("bridge");
            nics.add(new NicConfig(mac, ifname, bridge.isEmpty() ? Optional.empty() : Optional.of(bridge)));
        }
        return new MachineConfig(name, mem, vcpus, kernel, rd.isEmpty() ? Optional.empty() : Optional.of(Path.of(rd)),
                cmdline, cap, disks, nics);
    }

    static byte[] vcpu(VcpuState v) {
        HartState h = v.hart();
        return new Out().i64(h.pc()).i32(h.priv()).longs(h.x()).longs(h.f()).i32(h.frm()).i32(h.fflags())
                .longs(h.csrs()).longs(h.pmpaddr()).longs(h.pmpcfg()).i64(h.mipHw()).bool(h.seipSoft())
                .bool(h.waitingForInterrupt()).i32(v.hsmState()).i64(v.startAddr()).i64(v.startOpaque()).toBytes();
    }

    static VcpuState vcpu(In in) {
        HartState h = new HartState(in.i64(), in.i32(), in.longs(32, "x"), in.longs(32, "f"), in.i32(), in.i32(),
                in.longs(HartState.CSR_NAMES.size(), "csr"), in.longs(64, "pmpaddr"), in.longs(8, "pmpcfg"),
                in.i64(), in.bool(), in.bool());
        return new VcpuState(h, in.i32(), in.i64(), in.i64());
    }

    static byte[] clint(ClintState c) {
        return new Out().ints(c.msip()).longs(c.mtimecmp()).toBytes();
    }

    static ClintState clint(In in) {
        return new ClintState(in.ints(MAX_LIST, "msip"), in.longs(MAX_LIST, "mtimecmp"));
    }

    static byte[] plic(PlicState p) {
        return new Out().ints(p.priorities()).i64(p.levels()).i64(p.claimed()).longs(p.enables())
                .ints(p.thresholds()).toBytes();
    }

    static PlicState plic(In in) {
        return new PlicState(in.ints(MAX_LIST, "priority"), in.i64(), in.i64(), in.longs(2 * MAX_LIST, "enable"),
                in.ints(2 * MAX_LIST, "threshold"));
    }

    static byte[] uart(Uart16550State u) {
        return new Out().i32(u.ier()).i32(u.lcr()).i32(u.mcr()).i32(u.fcr()).i32(u.scr()).i32(u.divisor())
                .bool(u.overrun()).i32(u.msrDelta()).bool(u.thrInterrupt()).bytes(u.input()).toBytes();
    }

    static Uart16550State uart(In in) {
        return new Uart16550State(in.i32(), in.i32(), in.i32(), in.i32(), in.i32(), in.i32(), in.bool(), in.i32(),
                in.bool(), in.bytes(4096, "uart input"));
    }

    static byte[] rtc(GoldfishRtcState r) {
        return new Out().i64(r.offsetNanos()).i64(r.alarmNanos()).bool(r.alarmRunning()).bool(r.irqEnabled())
                .bool(r.irqPending()).i32(r.timeHigh()).toBytes();
    }

    static GoldfishRtcState rtc(In in) {
        return new GoldfishRtcState(in.i64(), in.i64(), in.bool(), in.bool(), in.bool(), in.i32());
    }

    static byte[] virtio(VirtioSlotState v) {
        VirtioMmioState t = v.transport();
        Out o = new Out().i32(v.deviceId()).i32(t.status()).i64(t.driverFeatures()).i32(t.interruptStatus())
                .i32(t.configGeneration()).i32(t.queues().size());
        for (QueueState q : t.queues()) {
            o.i32(q.size()).i64(q.desc()).i64(q.avail()).i64(q.used()).bool(q.ready()).i32(q.lastAvail())
                    .i32(q.usedIdx());
        }
        return o.bytes(v.device()).toBytes();
    }

    static VirtioSlotState virtio(In in) {
        int id = in.i32();
        int status = in.i32();
        long features = in.i64();
        int isr = in.i32();
        int gen = in.i32();
        int nq = in.listSize(MAX_QUEUES, "queue");
        List<QueueState> qs = new ArrayList<>();
        for (int i = 0; i < nq; i++) {
            int size = in.i32();
            long desc = in.i64();
            long avail = in.i64();
            long used = in.i64();
            boolean ready = in.bool();
            int lastAvail = in.i32();
            int usedIdx = in.i32();
            if (size < 0 || size > 32768 || lastAvail < 0 || lastAvail > 0xffff || usedIdx < 0 || usedIdx > 0xffff) {
                throw in.bad("queue " + i + " has size " + size + ", indices " + lastAvail + "/" + usedIdx);
            }
            qs.add(new QueueState(size, desc, avail, used, ready, lastAvail, usedIdx));
        }
        return new VirtioSlotState(id, new VirtioMmioState(status, features, isr, gen, qs),
                in.bytes(VirtioSlotState.MAX_DEVICE_BYTES, "device state"));
    }
}
