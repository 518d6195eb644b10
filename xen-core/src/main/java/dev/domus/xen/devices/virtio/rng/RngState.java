// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.rng;

/**
 * What a snapshot needs of a virtio-rng device: nothing is in flight (requests complete at once); the count is
 * kept for diagnostics.
 *
 * @param bytesServed entropy bytes handed to the guest since the machine started
 */
public record RngState(long bytesServed) {
}
