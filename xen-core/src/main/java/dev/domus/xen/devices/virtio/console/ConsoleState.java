// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.console;

/**
 * What a snapshot needs of a virtio-console device: host input not yet delivered to the guest.
 *
 * @param pendingInput bytes received from the host and waiting for guest receive buffers
 */
public record ConsoleState(byte[] pendingInput) {
    public ConsoleState {
        pendingInput = pendingInput.clone();
    }
}
