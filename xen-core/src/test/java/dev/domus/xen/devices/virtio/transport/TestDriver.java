// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import dev.domus.xen.memory.GuestMemory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A minimal virtio-mmio guest driver for device tests: negotiates features, lays out split rings in a small guest
 * RAM and submits descriptor chains through the register window exactly as a guest would.
 */
public final class TestDriver implements AutoCloseable {
    public static final long RAM_BASE = 0x8000_0000L;
    public static final long RAM_SIZE = 4L << 20;
    /** Data buffers are bump-allocated from here (rings live below). */
    static final long DATA_BASE = RAM_BASE + (1L << 20);

    public final GuestMemory ram = GuestMemory.allocate(RAM_BASE, RAM_SIZE);
    public final AtomicBoolean irq = new AtomicBoolean();
    public final VirtioMmio mmio;
    private final int[] qsize;
    private final int[] availIdx;
    private final int[] nextDesc;
    private long bump = DATA_BASE;

    /** One buffer of a chain: guest-physical address, length, device-writable. */
    public record Buf(long addr, int len, boolean write) { }

    public TestDriver(VirtioDevice device) {
        this.mmio = new VirtioMmio(device, ram, irq::set);
        this.qsize = new int[device.queueCount()];
        this.availIdx = new int[device.queueCount()];
        this.nextDesc = new int[device.queueCount()];
    }

    public int reg(int off) {
        return (int) mmio.read(off, 4);
    }

    public void reg(int off, long v) {
        mmio.write(off, 4, v);
    }

    /** Full initialisation: features = everything offered, every queue of {@code size}, DRIVER_OK. */
    public TestDriver start(int size) {
        return start(size, -1L);
    }

    public TestDriver start(int size, long featureMask) {
        reg(VirtioMmio.R_STATUS, 0);
        reg(VirtioMmio.R_STATUS, VirtioMmio.STATUS_ACKNOWLEDGE | VirtioMmio.STATUS_DRIVER);
        reg(VirtioMmio.R_DEVICE_FEATURES_SEL, 0);
        long f = Integer.toUnsignedLong(reg(VirtioMmio.R_DEVICE_FEATURES));
        reg(VirtioMmio.R_DEVICE_FEATURES_SEL, 1);
        f |= Integer.toUnsignedLong(reg(VirtioMmio.R_DEVICE_FEATURES)) << 32;
        f &= featureMask;
        reg(VirtioMmio.R_DRIVER_FEATURES_SEL, 0);
        reg(VirtioMmio.R_DRIVER_FEATURES, f & 0xffff_ffffL);
        reg(VirtioMmio.R_DRIVER_FEATURES_SEL, 1);
        reg(VirtioMmio.R_DRIVER_FEATURES, f >>> 32);
        reg(VirtioMmio.R_STATUS, VirtioMmio.STATUS_ACKNOWLEDGE | VirtioMmio.STATUS_DRIVER
                | VirtioMmio.STATUS_FEATURES_OK);
        for (int q = 0; q < qsize.length; q++) {
            setupQueue(q, size, desc(q), avail(q), used(q));
        }
        reg(VirtioMmio.R_STATUS, VirtioMmio.STATUS_ACKNOWLEDGE | VirtioMmio.STATUS_DRIVER
                | VirtioMmio.STATUS_FEATURES_OK | VirtioMmio.STATUS_DRIVER_OK);
        return this;
    }

    public void setupQueue(int q, int size, long desc, long avail, long used) {
        qsize[q] = size;
        availIdx[q] = 0;
        nextDesc[q] = 0;
        if (ram.containsRange(avail, 4) && ram.containsRange(used, 4)) {
            ram.storeInt(avail - RAM_BASE, 0);  // flags + idx
            ram.storeInt(used - RAM_BASE, 0);
        }
        reg(VirtioMmio.R_QUEUE_SEL, q);
        reg(VirtioMmio.R_QUEUE_NUM, size);
        reg(VirtioMmio.R_QUEUE_DESC_LOW, desc & 0xffff_ffffL);
        reg(VirtioMmio.R_QUEUE_DESC_HIGH, desc >>> 32);
        reg(VirtioMmio.R_QUEUE_DRIVER_LOW, avail & 0xffff_ffffL);
        reg(VirtioMmio.R_QUEUE_DRIVER_HIGH, avail >>> 32);
        reg(VirtioMmio.R_QUEUE_DEVICE_LOW, used & 0xffff_ffffL);
        reg(VirtioMmio.R_QUEUE_DEVICE_HIGH, used >>> 32);
        reg(VirtioMmio.R_QUEUE_READY, 1);
    }

    /** Ring areas: 64 KiB per queue below DATA_BASE. */
    public static long desc(int q) { return RAM_BASE + 0x10000L * q; }
    public static long avail(int q) { return desc(q) + 0x8000; }
    public static long used(int q) { return desc(q) + 0xa000; }

    public int status() {
        return reg(VirtioMmio.R_STATUS);
    }

    public boolean needsReset() {
        return (status() & VirtioMmio.STATUS_NEEDS_RESET) != 0;
    }

    /** Allocates {@code len} bytes of guest RAM for buffers (wraps around the data area). */
    public long alloc(int len) {
        long a = (bump + 15) & ~15L;
        if (a + len > RAM_BASE + RAM_SIZE) {
            a = DATA_BASE;
        }
        bump = a + len;
        return a;
    }

    public void poke(long gpa, byte[] data) {
        ram.write(gpa - RAM_BASE, data, 0, data.length);
    }

    public byte[] peek(long gpa, int len) {
        byte[] b = new byte[len];
        ram.read(gpa - RAM_BASE, b, 0, len);
        return b;
    }

    /** Writes a raw descriptor into the queue's table. */
    public void descriptor(int q, int index, long addr, int len, int flags, int next) {
        long d = desc(q) - RAM_BASE + 16L * index;
        ram.storeLong(d, addr);
        ram.storeInt(d + 8, len);
        ram.storeShort(d + 12, (short) flags);
        ram.storeShort(d + 14, (short) next);
    }

    /** Puts {@code head} in the available ring and bumps the index (no notify). */
    public void makeAvailable(int q, int head) {
        long slot = avail(q) - RAM_BASE + 4 + 2L * (availIdx[q] % qsize[q]);
        ram.storeShort(slot, (short) head);
        availIdx[q] = (availIdx[q] + 1) & 0xffff;
        ram.storeShort(avail(q) - RAM_BASE + 2, (short) availIdx[q]);
    }

    public void notifyQueue(int q) {
        reg(VirtioMmio.R_QUEUE_NOTIFY, q);
    }

    /** Submits a direct chain built from {@code bufs} and notifies; returns the head index. */
    public int submit(int q, Buf... bufs) {
        int head = nextDesc[q];
        for (int i = 0; i < bufs.length; i++) {
            int idx = (head + i) % qsize[q];
            boolean last = i == bufs.length - 1;
            descriptor(q, idx, bufs[i].addr(), bufs[i].len(),
                    (last ? 0 : Virtqueue.DESC_F_NEXT) | (bufs[i].write() ? Virtqueue.DESC_F_WRITE : 0),
                    (idx + 1) % qsize[q]);
        }
        nextDesc[q] = (head + bufs.length) % qsize[q];
        makeAvailable(q, head);
        notifyQueue(q);
        return head;
    }

    /** Submits {@code bufs} through one indirect table; returns the head index. */
    public int submitIndirect(int q, Buf... bufs) {
        long table = alloc(16 * bufs.length);
        for (int i = 0; i < bufs.length; i++) {
            long d = table - RAM_BASE + 16L * i;
            boolean last = i == bufs.length - 1;
            ram.storeLong(d, bufs[i].addr());
            ram.storeInt(d + 8, bufs[i].len());
            ram.storeShort(d + 12, (short) ((last ? 0 : Virtqueue.DESC_F_NEXT)
                    | (bufs[i].write() ? Virtqueue.DESC_F_WRITE : 0)));
            ram.storeShort(d + 14, (short) (i + 1));
        }
        int head = nextDesc[q];
        descriptor(q, head, table, 16 * bufs.length, Virtqueue.DESC_F_INDIRECT, 0);
        nextDesc[q] = (head + 1) % qsize[q];
        makeAvailable(q, head);
        notifyQueue(q);
        return head;
    }

    public int usedIdx(int q) {
        return ram.loadShort(used(q) - RAM_BASE + 2) & 0xffff;
    }

    /** Used element {@code i}: {id, len}. */
    public int[] usedElem(int q, int i) {
        long e = used(q) - RAM_BASE + 4 + 8L * (i % qsize[q]);
        return new int[] {ram.loadInt(e), ram.loadInt(e + 4)};
    }

    public void ackInterrupts() {
        reg(VirtioMmio.R_INTERRUPT_ACK, reg(VirtioMmio.R_INTERRUPT_STATUS));
    }

    @Override
    public void close() {
        mmio.device().close();
        ram.close();
    }
}
