// SPDX-License-Identifier: Apache-2.0
/**
 * Guest networking, host side first: a {@link dev.domus.xen.devices.virtio.net.NetBackend} moves whole Ethernet
 * frames between a virtual NIC and the host. {@code TapBackend} is the Linux tap implementation (opened through the
 * FFM API) and {@code HostLinks} the few iproute2 operations a domain runner needs (bridge attach, link checks).
 * The virtio-net device model codes against {@code NetBackend} only and never sees a file descriptor.
 */
package dev.domus.xen.devices.virtio.net;
