// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

/**
 * What a snapshot needs of one virtqueue: the driver's configuration and the device's ring positions.
 *
 * @param size      queue size
 * @param desc      guest-physical descriptor table
 * @param avail     guest-physical available ring
 * @param used      guest-physical used ring
 * @param ready     queue enabled
 * @param lastAvail next available-ring index the device will read
 * @param usedIdx   next used-ring index the device will write
 */
public record QueueState(int size, long desc, long avail, long used, boolean ready, int lastAvail, int usedIdx) {
}
