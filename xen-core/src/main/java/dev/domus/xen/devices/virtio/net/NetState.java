// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

/**
 * What a snapshot needs of a virtio-net device (frames in flight are dropped on save, as on a real link) plus
 * counters for diagnostics.
 *
 * @param mac       guest MAC address
 * @param backend   host interface name
 * @param txFrames  frames the guest sent
 * @param rxFrames  frames delivered to the guest
 * @param dropped   frames dropped (malformed, too large, no receive buffer, backend full)
 */
public record NetState(String mac, String backend, long txFrames, long rxFrames, long dropped) {
}
