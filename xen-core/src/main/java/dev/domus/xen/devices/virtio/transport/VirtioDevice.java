// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

/**
 * A virtio device model behind a transport. The transport owns registers, feature negotiation and queue setup;
 * the model describes itself (id, features, queues, configuration space) and consumes descriptor chains.
 *
 * <p>All methods are called with the transport's lock held ({@link VirtioContext#lock()}), from vCPU threads or
 * from the device's own host threads, so a model needs no further locking for its queue state. A model may throw
 * {@link VirtqueueException} for a malformed request it cannot fail gracefully; the transport then sets
 * DEVICE_NEEDS_RESET. Any other exception is a bug, but is contained the same way.
 */
public interface VirtioDevice {
    /** Virtio device ID (1 = net, 2 = block, 3 = console, 4 = entropy). */
    int deviceId();

    /**
     * Device-specific feature bits offered (the transport adds VERSION_1, RING_INDIRECT_DESC, RING_EVENT_IDX); none
     * by default (console without multiport, rng).
     */
    default long deviceFeatures() {
        return 0;
    }

    /** Number of virtqueues. */
    int queueCount();

    /** Largest queue size the device accepts (power of two, 1..32768). */
    default int maxQueueSize() {
        return 256;
    }

    /**
     * Reads {@code width} bytes of the configuration space at {@code offset}; out-of-range reads are zero. By default
     * the device has no configuration space (all reads zero).
     */
    default long readConfig(int offset, int width) {
        return 0;
    }

    /** Driver write to the configuration space; read-only fields ignore it. */
    default void writeConfig(int offset, int width, long value) {
    }

    /** The driver set DRIVER_OK: queues are live. {@code ctx} stays valid until {@link #reset()}. */
    void activate(VirtioContext ctx);

    /** The driver notified queue {@code queue} (0..queueCount-1) that new buffers are available. */
    void queueNotify(int queue);

    /** Device reset (status 0 or needs-reset recovery): drop in-flight work, forget the context. */
    void reset();

    /** Short name for logs ("blk-vda", "rng"). */
    String name();

    /** Machine teardown: release host resources (files, taps, threads). Called once, after the vCPUs stopped. */
    default void close() {
    }
}
