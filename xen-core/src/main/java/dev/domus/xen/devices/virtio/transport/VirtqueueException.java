// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.transport;

/**
 * A guest broke the virtqueue contract (index or address out of range, descriptor loop, bad flags or sizes). The
 * transport answers with DEVICE_NEEDS_RESET; the message names what was wrong for the log.
 */
public final class VirtqueueException extends RuntimeException {
    public VirtqueueException(String message) {
        super(message, null, false, false);
    }
}
