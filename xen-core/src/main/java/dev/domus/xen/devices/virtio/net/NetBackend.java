// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Host side of a virtual NIC: moves whole Ethernet frames (no virtio-net header).
 *
 * <p>Buffers follow the NIO channel convention: {@code send} consumes the frame (its position moves to its limit),
 * {@code receive} advances {@code dst}'s position by the returned length. A received frame longer than
 * {@code dst.remaining()} is dropped and counted, never truncated.
 *
 * <p>Threading: one thread may call {@link #send} while another calls {@link #receive}; {@link #close} may be
 * called from any thread, any number of times, and wakes a blocked {@code receive}.
 */
public interface NetBackend extends AutoCloseable {
    /**
     * Sends one frame (position..limit). A frame the host cannot take right now is dropped and counted, not queued
     * forever.
     */
    void send(ByteBuffer frame) throws IOException;

    /**
     * Waits up to timeoutMillis for one frame, copies it into dst at its position; returns its length, 0 on
     * timeout, -1 once closed.
     */
    int receive(ByteBuffer dst, int timeoutMillis) throws IOException;

    /** Host interface name. */
    String name();

    @Override
    void close();
}
