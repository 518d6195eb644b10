// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import dev.domus.xen.bus.MmioDevice;
import dev.domus.xen.devices.irq.IrqLine;
import dev.domus.xen.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The virtio-mmio version 2 register window (virtio 1.x section 4.2.2) in front of one {@link VirtioDevice}.
 *
 * <p>Modern only: {@code VIRTIO_F_VERSION_1} is required, legacy (version 1) registers do not exist. The transport
 * offers {@code RING_INDIRECT_DESC} and {@code RING_EVENT_IDX} on top of the device's features, refuses
 * {@code FEATURES_OK} for features it did not offer, validates each queue when it is enabled, and turns every
 * guest protocol violation into {@code DEVICE_NEEDS_RESET} (status bit 0x40 plus a configuration interrupt).
 * Nothing the guest writes makes it throw. Interrupts are level-triggered on one PLIC line: asserted while the
 * interrupt status is non-zero.
 */
public final class VirtioMmio implements MmioDevice {
    private static final Logger LOG = Logger.getLogger(VirtioMmio.class.getName());

    public static final int MAGIC = 0x74726976; // "virt"
    public static final int VERSION = 2;
    /** Vendor ID reported to the guest ("DMUS"); drivers do not depend on it. */
    public static final int VENDOR = 0x534d5544;

    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_NEEDS_RESET = 0x40;
    public static final int STATUS_FAILED = 0x80;

    public static final int F_RING_INDIRECT_DESC = 28;
    public static final int F_RING_EVENT_IDX = 29;
    public static final int F_VERSION_1 = 32;

    static final int INT_USED = 1;
    static final int INT_CONFIG = 2;

    // Register offsets.
    static final int R_MAGIC = 0x000;
    static final int R_VERSION = 0x004;
    static final int R_DEVICE_ID = 0x008;
    static final int R_VENDOR_ID = 0x00c;
    static final int R_DEVICE_FEATURES = 0x010;
    static final int R_DEVICE_FEATURES_SEL = 0x014;
    static final int R_DRIVER_FEATURES = 0x020;
    static final int R_DRIVER_FEATURES_SEL = 0x024;
    static final int R_QUEUE_SEL = 0x030;
    static final int R_QUEUE_NUM_MAX = 0x034;
    static final int R_QUEUE_NUM = 0x038;
    static final int R_QUEUE_READY = 0x044;
    static final int R_QUEUE_NOTIFY = 0x050;
    static final int R_INTERRUPT_STATUS = 0x060;
    static final int R_INTERRUPT_ACK = 0x064;
    static final int R_STATUS = 0x070;
    static final int R_QUEUE_DESC_LOW = 0x080;
    static final int R_QUEUE_DESC_HIGH = 0x084;
    static final int R_QUEUE_DRIVER_LOW = 0x090;
    static final int R_QUEUE_DRIVER_HIGH = 0x094;
    static final int R_QUEUE_DEVICE_LOW = 0x0a0;
    static final int R_QUEUE_DEVICE_HIGH = 0x0a4;
    static final int R_SHM_SEL = 0x0ac;
    static final int R_SHM_LEN_LOW = 0x0b0;
    static final int R_SHM_LEN_HIGH = 0x0b4;
    static final int R_CONFIG_GENERATION = 0x0fc;
    static final int R_CONFIG = 0x100;

    private final VirtioDevice device;
    private final IrqLine irq;
    private final long offered;
    private final Virtqueue[] queues;
    private final int maxQueue;
    /** For {@link #rehearseRestore}'s scratch queues. */
    private final GuestMemory ram;
    private final Context context = new Context();

    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private int queueSel;
    private int status;
    private int interruptStatus;
    private int configGeneration;
    private boolean active;
    /** Exceptions other than guest protocol violations that were contained: bugs, counted for tests and logs. */
    private long internalErrors;
    private long needsResetCount;
    private long featureRejects;

    public VirtioMmio(VirtioDevice device, GuestMemory ram, IrqLine irq) {
        this.device = device;
        this.irq = irq;
        this.ram = ram;
        this.offered = device.deviceFeatures() | (1L << F_VERSION_1) | (1L << F_RING_INDIRECT_DESC)
                | (1L << F_RING_EVENT_IDX);
        int max = device.maxQueueSize();
        if (max < 1 || max > 32768 || (max & (max - 1)) != 0) {
            throw new IllegalArgumentException(device.name() + ": max queue size must be a power of two 1..32768");
        }
        this.maxQueue = max;
        this.queues = new Virtqueue[device.queueCount()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new Virtqueue(ram, this::usedBufferInterrupt);
        }
    }

    /** The device model behind this window. */
    public VirtioDevice device() {
        return device;
    }

    @Override
    public long size() {
        return 0x1000;
    }

    @Override
    public String name() {
        return "virtio-mmio-" + device.name();
    }

    @Override
    public synchronized long read(long offset, int width) {
        try {
            return readRegister((int) offset, width);
        } catch (RuntimeException e) {
            contain("register read 0x" + Long.toHexString(offset), e);
            return 0;
        }
    }

    private long readRegister(int off, int width) {
        if (off >= R_CONFIG) {
            return device.readConfig(off - R_CONFIG, width);
        }
        if (width != 4) {
            return 0; // the spec requires 32-bit access to the register block
        }
        Virtqueue q = selectedQueue();
        return switch (off) {
            case R_MAGIC -> MAGIC;
            case R_VERSION -> VERSION;
            case R_DEVICE_ID -> device.deviceId();
            case R_VENDOR_ID -> VENDOR;
            case R_DEVICE_FEATURES -> deviceFeaturesSel == 0 ? offered & 0xffff_ffffL
                    : deviceFeaturesSel == 1 ? offered >>> 32 : 0;
            case R_QUEUE_NUM_MAX -> q == null ? 0 : maxQueue;
            case R_QUEUE_READY -> q != null && q.ready ? 1 : 0;
            case R_INTERRUPT_STATUS -> interruptStatus;
            case R_STATUS -> status;
            case R_CONFIG_GENERATION -> configGeneration;
            case R_SHM_LEN_LOW, R_SHM_LEN_HIGH -> 0xffff_ffffL; // no shared memory regions
            default -> 0;
        } & 0xffff_ffffL;
    }

    @Override
    public synchronized void write(long offset, int width, long value) {
        int off = (int) offset;
        try {
            if (off >= R_CONFIG) {
                device.writeConfig(off - R_CONFIG, width, value);
                return;
            }
            if (width != 4) {
                return;
            }
            writeRegister(off, (int) value);
        } catch (RuntimeException e) {
            contain("register write 0x" + Integer.toHexString(off), e);
        }
    }

    private void writeRegister(int off, int v) {
        Virtqueue q = selectedQueue();
        // Queue configuration may only change while the queue is disabled (and before DRIVER_OK).
        boolean qWritable = q != null && !q.ready;
        switch (off) {
            case R_DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
            case R_DRIVER_FEATURES -> {
                if ((status & STATUS_FEATURES_OK) == 0) {
                    if (driverFeaturesSel == 0) {
                        driverFeatures = (driverFeatures & ~0xffff_ffffL) | Integer.toUnsignedLong(v);
                    } else if (driverFeaturesSel == 1) {
                        driverFeatures = (driverFeatures & 0xffff_ffffL) | (Integer.toUnsignedLong(v) << 32);
                    }
                }
            }
            case R_DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
            case R_QUEUE_SEL -> queueSel = v;
            case R_QUEUE_NUM -> {
                if (qWritable) {
                    q.size = v;
                }
            }
            case R_QUEUE_READY -> {
                if (q != null) {
                    queueReady(q, v == 1);
                }
            }
            case R_QUEUE_NOTIFY -> notifyQueue(v & 0xffff);
            case R_INTERRUPT_ACK -> {
                interruptStatus &= ~v;
                updateIrq();
            }
            case R_STATUS -> writeStatus(v & 0xff);
            case R_QUEUE_DESC_LOW -> { if (qWritable) { q.desc = low(q.desc, v); } }
            case R_QUEUE_DESC_HIGH -> { if (qWritable) { q.desc = high(q.desc, v); } }
            case R_QUEUE_DRIVER_LOW -> { if (qWritable) { q.avail = low(q.avail, v); } }
            case R_QUEUE_DRIVER_HIGH -> { if (qWritable) { q.avail = high(q.avail, v); } }
            case R_QUEUE_DEVICE_LOW -> { if (qWritable) { q.used = low(q.used, v); } }
            case R_QUEUE_DEVICE_HIGH -> { if (qWritable) { q.used = high(q.used, v); } }
            default -> { }
        }
    }

    /** The queue QueueSel points at, or null: the guest may select any 32-bit value, negative ones included. */
    private Virtqueue selectedQueue() {
        return queueSel >= 0 && queueSel < queues.length ? queues[queueSel] : null;
    }

    private static long low(long old, int v) {
        return (old & ~0xffff_ffffL) | Integer.toUnsignedLong(v);
    }

    private static long high(long old, int v) {
        return (old & 0xffff_ffffL) | (Integer.toUnsignedLong(v) << 32);
    }

    private void queueReady(Virtqueue q, boolean on) {
        if (!on) {
            q.ready = false;
            return;
        }
        if (q.ready) {
            return;
        }
        Optional<String> problem = q.validate(maxQueue);
        if (problem.isPresent()) {
            fail(problem.get());
            return;
        }
        q.start((driverFeatures & (1L << F_RING_EVENT_IDX)) != 0,
                (driverFeatures & (1L << F_RING_INDIRECT_DESC)) != 0);
        q.ready = true;
    }

    private void writeStatus(int v) {
        if (v == 0) {
            reset();
            return;
        }
        if ((status & STATUS_NEEDS_RESET) != 0) {
            status |= v & STATUS_FAILED;
            return;
        }
        int adding = v & ~status;
        if ((adding & STATUS_FEATURES_OK) != 0) {
            boolean subset = (driverFeatures & ~offered) == 0;
            boolean modern = (driverFeatures & (1L << F_VERSION_1)) != 0;
            if (!subset || !modern) {
                if (++featureRejects <= 10) {
                    LOG.info(() -> "event=virtio-features-rejected device=" + device.name() + " driver=0x"
                            + Long.toHexString(driverFeatures) + " offered=0x" + Long.toHexString(offered));
                }
                v &= ~STATUS_FEATURES_OK;
            }
        }
        if ((adding & STATUS_DRIVER_OK) != 0 && (v & STATUS_FEATURES_OK) == 0) {
            fail("DRIVER_OK without FEATURES_OK");
            return;
        }
        // Status bits may only be added until reset.
        status = (status | v) & 0xff;
        if ((adding & STATUS_DRIVER_OK) != 0 && !active) {
            active = true;
            device.activate(context);
        }
    }

    private void notifyQueue(int index) {
        if (!active || index >= queues.length || (status & STATUS_NEEDS_RESET) != 0) {
            return;
        }
        try {
            device.queueNotify(index);
        } catch (VirtqueueException e) {
            fail(e.getMessage());
        } catch (RuntimeException e) {
            contain("queue " + index + " notify", e);
        }
    }

    /** Device reset: every register back to its initial value, device model told. */
    private void reset() {
        if (active) {
            device.reset();
        }
        active = false;
        status = 0;
        driverFeatures = 0;
        driverFeaturesSel = 0;
        deviceFeaturesSel = 0;
        queueSel = 0;
        interruptStatus = 0;
        for (Virtqueue q : queues) {
            q.clear();
        }
        updateIrq();
    }

    private void fail(String reason) {
        if ((status & STATUS_NEEDS_RESET) == 0) {
            // A guest can break and reset a device in a loop: log the first few, then one in 1000.
            long n = ++needsResetCount;
            if (n <= 10 || n % 1000 == 0) {
                LOG.warning(() -> "event=virtio-needs-reset device=" + device.name() + " count=" + n + " reason=\""
                        + reason + "\"");
            }
            status |= STATUS_NEEDS_RESET;
            for (Virtqueue q : queues) {
                q.ready = false;
            }
            if ((status & STATUS_DRIVER_OK) != 0) {
                interruptStatus |= INT_CONFIG;
                updateIrq();
            }
        }
    }

    private void contain(String what, RuntimeException e) {
        internalErrors++;
        LOG.log(Level.WARNING, "event=virtio-device-error device=" + device.name() + " during=\"" + what + "\"", e);
        fail("internal error during " + what + ": " + e);
    }

    private void usedBufferInterrupt() {
        interruptStatus |= INT_USED;
        updateIrq();
    }

    private void updateIrq() {
        irq.set(interruptStatus != 0);
    }

    /** Number of contained internal errors (anything but a {@link VirtqueueException}); zero unless there is a bug. */
    public synchronized long internalErrors() {
        return internalErrors;
    }

    /** Transport state for snapshots. */
    public synchronized VirtioMmioState state() {
        List<QueueState> qs = new ArrayList<>();
        for (Virtqueue q : queues) {
            qs.add(q.state());
        }
        return new VirtioMmioState(status, driverFeatures, interruptStatus, configGeneration, qs);
    }

    /**
     * Restores {@link #state()} into a freshly created transport (before the vCPUs run): registers, rings, and, when
     * the driver had set DRIVER_OK, the device model is activated again. Every ring is validated as if the guest had
     * just enabled it; a state that a guest could not have produced is refused.
     *
     * @throws IllegalArgumentException when the state does not fit this device (queue count, ring addresses)
     */
    public synchronized void restore(VirtioMmioState s) {
        if (active) {
            throw new IllegalStateException(device.name() + ": restore into an active transport");
        }
        if (s.queues().size() != queues.length) {
            throw new IllegalArgumentException(device.name() + ": snapshot has " + s.queues().size()
                    + " queues, device has " + queues.length);
        }
        if ((s.driverFeatures() & ~offered) != 0) {
            throw new IllegalArgumentException(device.name() + ": snapshot features 0x"
                    + Long.toHexString(s.driverFeatures()) + " were not offered (0x" + Long.toHexString(offered) + ")");
        }
        boolean eventIdx = (s.driverFeatures() & (1L << F_RING_EVENT_IDX)) != 0;
        boolean indirect = (s.driverFeatures() & (1L << F_RING_INDIRECT_DESC)) != 0;
        for (int i = 0; i < queues.length; i++) {
            QueueState q = s.queues().get(i);
            queues[i].restore(q, eventIdx, indirect);
            if (q.ready()) {
                Optional<String> problem = queues[i].validate(maxQueue);
                if (problem.isPresent()) {
                    queues[i].clear();
                    throw new IllegalArgumentException(device.name() + " queue " + i + ": " + problem.get());
                }
            }
        }
        driverFeatures = s.driverFeatures();
        status = s.status() & 0xff;
        interruptStatus = s.interruptStatus() & (INT_USED | INT_CONFIG);
        configGeneration = s.configGeneration();
        if ((status & STATUS_DRIVER_OK) != 0 && (status & STATUS_NEEDS_RESET) == 0) {
            active = true;
            device.activate(context);
        }
        updateIrq();
    }

    /**
     * The checks of {@link #restore} on scratch queues, leaving this transport as it is (a migration target warms
     * the restore path with the state preview before the downtime; activating the device there could let it write
     * guest RAM that is still arriving). Returns what {@link #restore} would refuse, if anything.
     */
    public Optional<String> rehearseRestore(VirtioMmioState s) {
        if (s.queues().size() != queues.length) {
            return Optional.of(device.name() + ": snapshot has " + s.queues().size() + " queues");
        }
        if ((s.driverFeatures() & ~offered) != 0) {
            return Optional.of(device.name() + ": snapshot features were not offered");
        }
        boolean eventIdx = (s.driverFeatures() & (1L << F_RING_EVENT_IDX)) != 0;
        boolean indirect = (s.driverFeatures() & (1L << F_RING_INDIRECT_DESC)) != 0;
        for (int i = 0; i < queues.length; i++) {
            QueueState q = s.queues().get(i);
            Virtqueue scratch = new Virtqueue(ram, () -> { });
            scratch.restore(q, eventIdx, indirect);
            if (q.ready()) {
                Optional<String> problem = scratch.validate(maxQueue);
                if (problem.isPresent()) {
                    return problem;
                }
            }
        }
        return Optional.empty();
    }

    private final class Context implements VirtioContext {
        @Override
        public Virtqueue queue(int index) {
            return queues[index];
        }

        @Override
        public long negotiatedFeatures() {
            return driverFeatures;
        }

        @Override
        public Object lock() {
            return VirtioMmio.this;
        }

        @Override
        public void configChanged() {
            synchronized (VirtioMmio.this) {
                configGeneration++;
                if ((status & STATUS_DRIVER_OK) != 0) {
                    interruptStatus |= INT_CONFIG;
                    updateIrq();
                }
            }
        }

        @Override
        public void fail(String reason) {
            synchronized (VirtioMmio.this) {
                VirtioMmio.this.fail(reason);
            }
        }

        @Override
        public boolean runLocked(Runnable work) {
            synchronized (VirtioMmio.this) {
                if (context != this || !active || (status & STATUS_NEEDS_RESET) != 0) {
                    return false;
                }
                try {
                    work.run();
                    return true;
                } catch (VirtqueueException e) {
                    VirtioMmio.this.fail(e.getMessage());
                } catch (RuntimeException e) {
                    contain("host-side work", e);
                }
                return false;
            }
        }

        @Override
        public boolean failed() {
            synchronized (VirtioMmio.this) {
                return (status & STATUS_NEEDS_RESET) != 0 || !active;
            }
        }
    }
}
