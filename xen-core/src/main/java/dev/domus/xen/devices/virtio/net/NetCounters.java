// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

/**
 * Frame counters of one backend since it was opened. {@code txDropped} counts frames {@code send} could not hand to
 * the host (queue full, link gone, shorter than an Ethernet header or longer than the backend's maximum);
 * {@code rxDropped} counts received frames that did not fit the caller's buffer.
 */
public record NetCounters(long txFrames, long txBytes, long txDropped, long rxFrames, long rxBytes, long rxDropped) {
}
