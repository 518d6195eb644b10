// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

/** What an activated device model gets from its transport. */
public interface VirtioContext {
    /** Queue {@code index} as the driver set it up (it may be not ready: {@link Virtqueue#ready()}). */
    Virtqueue queue(int index);

    /** Feature bits both sides agreed on. */
    long negotiatedFeatures();

    /** The monitor that serialises the device; host threads of a device must hold it to touch queues. */
    Object lock();

    /** Raises a configuration-change interrupt (the driver re-reads the configuration space). */
    void configChanged();

    /** Marks the device broken (DEVICE_NEEDS_RESET plus a configuration interrupt) with a reason for the log. */
    void fail(String reason);

    /**
     * Runs {@code work} for a device host thread (receive path, console input) under the transport lock, unless
     * the device failed or was reset; a {@link VirtqueueException} or other exception from it fails the device
     * instead of escaping. Returns whether the work ran to completion.
     */
    boolean runLocked(Runnable work);

    /** Whether the device has failed and must not process more buffers until reset. */
    boolean failed();
}
