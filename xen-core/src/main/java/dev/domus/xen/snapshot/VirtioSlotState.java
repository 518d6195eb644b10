// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.devices.virtio.transport.VirtioMmioState;

/**
 * One virtio-mmio slot: which device sits there, its transport (status, features, virtqueues) and the device
 * model's own state as an opaque, bounded byte string (console: unread input).
 */
public record VirtioSlotState(int deviceId, VirtioMmioState transport, byte[] device) {
    public static final int MAX_DEVICE_BYTES = 64 * 1024;

    public VirtioSlotState {
        if (deviceId < 1 || deviceId > 64) {
            throw new IllegalArgumentException("virtio device id must be 1..64, got " + deviceId);
        }
        if (device.length > MAX_DEVICE_BYTES) {
            throw new IllegalArgumentException("virtio device state of " + device.length + " bytes exceeds "
                    + MAX_DEVICE_BYTES);
        }
        device = device.clone();
    }

    @Override
    public byte[] device() {
        return device.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VirtioSlotState s && deviceId == s.deviceId && transport.equals(s.transport)
                && java.util.Arrays.equals(device, s.device);
    }

    @Override
    public int hashCode() {
        return deviceId * 31 + transport.hashCode();
    }
}
