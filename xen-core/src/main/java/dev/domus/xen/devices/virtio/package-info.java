// SPDX-License-Identifier: Apache-2.0
/**
 * Virtio devices: the virtio-mmio v2 transport with split virtqueues ({@code transport}) and the device models
 * that sit behind it ({@code blk}, {@code net}, {@code console}, {@code rng}). Device models see virtqueues and
 * descriptor chains only, never the transport's registers.
 */
package dev.domus.xen.devices.virtio;
