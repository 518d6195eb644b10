// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import dev.domus.xen.memory.GuestMemory;

import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * A split virtqueue (virtio 1.x section 2.7): descriptor table, available ring, used ring in guest RAM.
 *
 * <p>Every guest value is checked: ring addresses and size when the queue is enabled, the available index against
 * the queue size, every descriptor index, address and length while a chain is walked, indirect tables (no nesting,
 * length a multiple of 16, at most {@link #MAX_INDIRECT} entries), descriptor loops (a chain may not visit more
 * descriptors than its table holds) and direction (no readable descriptor after a writable one). A violation is a
 * {@link VirtqueueException}. With {@code VIRTIO_F_EVENT_IDX} the device publishes {@code avail_event} and
 * interrupts only when the driver's {@code used_event} was crossed.
 */
public final class Virtqueue {
    /** Largest indirect table accepted (entries). */
    public static final int MAX_INDIRECT = 1024;
    /** Largest total length of one chain in either direction: bounds work per request. */
    public static final long MAX_CHAIN_BYTES = 256L << 20;

    static final int DESC_F_NEXT = 1;
    static final int DESC_F_WRITE = 2;
    static final int DESC_F_INDIRECT = 4;
    static final int AVAIL_F_NO_INTERRUPT = 1;

    private final GuestMemory ram;
    private final Runnable interrupt;
    private final DescriptorChain chain;

    // Driver-programmed configuration (guest-physical addresses).
    int size;
    long desc;
    long avail;
    long used;
    boolean ready;

    // Device-side ring state.
    private boolean eventIdx;
    private boolean indirect;
    private int lastAvail;
    private int usedIdx;
    private int signalledUsed;
    private boolean pendingUsed;

    Virtqueue(GuestMemory ram, Runnable interrupt) {
        this.ram = ram;
        this.interrupt = interrupt;
        this.chain = new DescriptorChain(ram);
    }

    /** Whether the driver enabled this queue. */
    public boolean ready() { return ready; }

    /** Queue size (number of descriptors). */
    public int size() { return size; }

    /** Checks the driver's ring configuration; empty when it is valid, else what is wrong. */
    Optional<String> validate(int maxSize) {
        if (size < 1 || size > maxSize || (size & (size - 1)) != 0) {
            return Optional.of("queue size " + size + " is not a power of two in 1.." + maxSize);
        }
        if ((desc & 15) != 0 || !ram.containsRange(desc, 16L * size)) {
            return Optional.of(String.format("descriptor table 0x%x (size %d) is misaligned or outside RAM", desc, size));
        }
        if ((avail & 1) != 0 || !ram.containsRange(avail, 6L + 2L * size)) {
            return Optional.of(String.format("available ring 0x%x is misaligned or outside RAM", avail));
        }
        if ((used & 3) != 0 || !ram.containsRange(used, 6L + 8L * size)) {
            return Optional.of(String.format("used ring 0x%x is misaligned or outside RAM", used));
        }
        return Optional.empty();
    }

    /** Starts the device side of the ring (DRIVER_OK / queue enable) with the negotiated ring features. */
    void start(boolean withEventIdx, boolean withIndirect) {
        eventIdx = withEventIdx;
        indirect = withIndirect;
        lastAvail = 0;
        usedIdx = 0;
        signalledUsed = 0;
        pendingUsed = false;
    }

    void clear() {
        size = 0;
        desc = 0;
        avail = 0;
        used = 0;
        ready = false;
        start(false, false);
    }

    private long off(long gpa) {
        return gpa - ram.base();
    }

    private int availIdx() {
        VarHandle.fullFence();
        return ram.loadShort(off(avail) + 2) & 0xffff;
    }

    /** Whether the driver has made buffers available that were not popped yet. */
    public boolean hasAvailable() {
        if (!ready) {
            return false;
        }
        int n = (availIdx() - lastAvail) & 0xffff;
        if (n > size) {
            throw new VirtqueueException("available index moved by " + n + " in a queue of " + size);
        }
        return n != 0;
    }

    /**
     * The next available chain, walked and validated, or null when the ring is empty. The returned object is
     * reused by the next call. With event idx, an empty ring re-arms the driver's notification first.
     */
    public DescriptorChain pop() {
        if (!ready) {
            return null;
        }
        if (!hasAvailable()) {
            if (!eventIdx) {
                return null;
            }
            // Ask for a kick at the next buffer, then look again: the driver may have added one meanwhile.
            publishAvailEvent();
            if (!hasAvailable()) {
                return null;
            }
        }
        int slot = lastAvail & (size - 1);
        int head = ram.loadShort(off(avail) + 4 + 2L * slot) & 0xffff;
        lastAvail = (lastAvail + 1) & 0xffff;
        if (eventIdx) {
            publishAvailEvent();
        }
        walk(head);
        return chain;
    }

    /** Un-pops the last chain (a device that cannot take it now, e.g. a full receive path). */
    public void undoPop() {
        lastAvail = (lastAvail - 1) & 0xffff;
    }

    private void publishAvailEvent() {
        long at = off(used) + 4 + 8L * size;
        ram.storeShort(at, (short) lastAvail);
        ram.deviceWrote(at, 2);
        VarHandle.fullFence();
    }

    private void walk(int head) {
        chain.reset(head);
        if (head >= size) {
            throw new VirtqueueException("head descriptor " + head + " out of range (queue size " + size + ")");
        }
        long table = off(desc);
        int tableSize = size;
        int idx = head;
        int budget = size;
        boolean inIndirect = false;
        boolean sawWritable = false;
        long readBytes = 0;
        long writeBytes = 0;
        while (true) {
            if (idx >= tableSize) {
                throw new VirtqueueException("descriptor index " + idx + " out of range (table of " + tableSize + ")");
            }
            if (--budget < 0) {
                throw new VirtqueueException("descriptor chain from head " + head + " loops or is too long");
            }
            long d = table + 16L * idx;
            long addr = ram.loadLong(d);
            int len = ram.loadInt(d + 8);
            int flags = ram.loadShort(d + 12) & 0xffff;
            int next = ram.loadShort(d + 14) & 0xffff;
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (!indirect) {
                    throw new VirtqueueException("indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC");
                }
                if (inIndirect) {
                    throw new VirtqueueException("nested indirect descriptor table");
                }
                if ((flags & DESC_F_NEXT) != 0) {
                    throw new VirtqueueException("indirect descriptor with NEXT set");
                }
                long tlen = Integer.toUnsignedLong(len);
                if (tlen == 0 || (tlen & 15) != 0 || tlen / 16 > MAX_INDIRECT) {
                    throw new VirtqueueException("indirect table length " + tlen + " is not 16..16*" + MAX_INDIRECT
                            + " in steps of 16");
                }
                // The spec asks no alignment of indirect tables (Linux kmallocs them), only that they exist.
                if (!ram.containsRange(addr, tlen)) {
                    throw new VirtqueueException(String.format("indirect table 0x%x+%d is outside guest RAM",
                            addr, tlen));
                }
                table = off(addr);
                tableSize = (int) (tlen / 16);
                budget = tableSize;
                idx = 0;
                inIndirect = true;
                continue;
            }
            boolean write = (flags & DESC_F_WRITE) != 0;
            if (!write && sawWritable) {
                throw new VirtqueueException("device-readable descriptor after a device-writable one");
            }
            long l = Integer.toUnsignedLong(len);
            if (l > 0) {
                if (!ram.containsRange(addr, l)) {
                    throw new VirtqueueException(String.format("buffer 0x%x+%d is outside guest RAM", addr, l));
                }
                if (write) {
                    writeBytes += l;
                } else {
                    readBytes += l;
                }
                if (readBytes > MAX_CHAIN_BYTES || writeBytes > MAX_CHAIN_BYTES) {
                    throw new VirtqueueException("descriptor chain longer than " + MAX_CHAIN_BYTES + " bytes");
                }
                chain.add(off(addr), len, write);
            }
            sawWritable |= write;
            if ((flags & DESC_F_NEXT) == 0) {
                return;
            }
            idx = next;
        }
    }

    /** Returns a chain to the driver with {@code written} bytes written into its writable part. */
    public void push(DescriptorChain c, long written) {
        long elem = off(used) + 4 + 8L * (usedIdx & (size - 1));
        ram.storeInt(elem, c.head());
        ram.storeInt(elem + 4, (int) Math.min(written, c.writableBytes()));
        usedIdx = (usedIdx + 1) & 0xffff;
        VarHandle.fullFence();
        ram.storeShort(off(used) + 2, (short) usedIdx);
        ram.deviceWrote(elem, 8);
        ram.deviceWrote(off(used) + 2, 2);
        pendingUsed = true;
    }

    /**
     * Interrupts the driver for the chains pushed since the last call, unless it asked not to be (flag or event
     * index). Devices call this after a batch of {@link #push}es.
     */
    public void notifyDriver() {
        if (!pendingUsed) {
            return;
        }
        pendingUsed = false;
        VarHandle.fullFence();
        boolean need;
        if (eventIdx) {
            int usedEvent = ram.loadShort(off(avail) + 4 + 2L * size) & 0xffff;
            int newIdx = usedIdx;
            int old = signalledUsed;
            need = ((newIdx - usedEvent - 1) & 0xffff) < ((newIdx - old) & 0xffff);
        } else {
            need = (ram.loadShort(off(avail)) & AVAIL_F_NO_INTERRUPT) == 0;
        }
        signalledUsed = usedIdx;
        if (need) {
            interrupt.run();
        }
    }

    /**
     * Restores {@link #state()} with the ring features the driver negotiated. Used-buffer notifications the guest
     * had not seen are carried by the transport's interrupt status, so suppression restarts at the used index.
     */
    void restore(QueueState s, boolean withEventIdx, boolean withIndirect) {
        size = s.size();
        desc = s.desc();
        avail = s.avail();
        used = s.used();
        start(withEventIdx, withIndirect);
        lastAvail = s.lastAvail() & 0xffff;
        usedIdx = s.usedIdx() & 0xffff;
        signalledUsed = usedIdx;
        ready = s.ready();
    }

    /** Device-side ring indices, for snapshots. */
    QueueState state() {
        return new QueueState(size, desc, avail, used, ready, lastAvail, usedIdx);
    }
}
