// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-rng: fills the guest's entropy requests from the host's entropy source, so first-boot key generation
 * (dropbear host keys) does not wait for the guest kernel's own jitter entropy.
 */
package dev.domus.xen.devices.virtio.rng;
