// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-mmio (version 2, modern only) transport: register window, feature negotiation, device status, and
 * split virtqueues with event-index notification suppression and indirect descriptors. Every guest-supplied
 * address, index and length is checked here, so a malformed ring puts the device into DEVICE_NEEDS_RESET instead
 * of reaching the device model or touching memory outside guest RAM.
 */
package dev.domus.xen.devices.virtio.transport;
