// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

import java.util.List;

/**
 * What a snapshot needs of a virtio-mmio transport (the device model saves its own state).
 *
 * @param status          device status register
 * @param driverFeatures  features the driver accepted
 * @param interruptStatus pending interrupt bits (1 = used buffer, 2 = configuration change)
 * @param configGeneration configuration generation counter
 * @param queues          every queue, in order
 */
public record VirtioMmioState(int status, long driverFeatures, int interruptStatus, int configGeneration,
                              List<QueueState> queues) {
    public VirtioMmioState {
        queues = List.copyOf(queues);
    }
}
