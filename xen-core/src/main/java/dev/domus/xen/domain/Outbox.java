// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The sending side of one client connection: producers (machine threads, the domain's event thread) only enqueue,
 * a virtual thread writes. A client that stops reading fills its budget and is disconnected instead of stalling
 * the guest.
 */
final class Outbox implements AutoCloseable {
    private static final byte[] CLOSE = new byte[0];

    private final SocketChannel ch;
    private final long maxPending;
    private final String label;
    private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private long pending;
    private boolean closing;

    Outbox(SocketChannel ch, long maxPending, String label) {
        this.ch = ch;
        this.maxPending = maxPending;
        this.label = label;
        this.writer = Thread.ofVirtual().name("outbox-" + label).start(this::run);
    }

    /** Queues bytes; false (and the connection is closed) when the client is too far behind or already gone. */
    boolean offer(byte[] data) {
        synchronized (this) {
            if (closing) {
                return false;
            }
            if (pending + data.length > maxPending) {
                closing = true;
                Log.warn("client_too_slow", "conn", label, "pending_bytes", pending);
                closeChannel();
                queue.offer(CLOSE);
                return false;
            }
            pending += data.length;
        }
        queue.offer(data);
        return true;
    }

    /** Delivers what is queued, then closes the connection. */
    void closeAfterFlush() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        queue.offer(CLOSE);
    }

    /** Waits for the writer to finish after {@link #closeAfterFlush()} or {@link #close()}. */
    boolean awaitClosed(long millis) throws InterruptedException {
        return writer.join(java.time.Duration.ofMillis(millis));
    }

    @Override
    public void close() {
        synchronized (this) {
            closing = true;
        }
        closeChannel();
        queue.offer(CLOSE);
    }

    private void run() {
        try {
            while (true) {
                byte[] data = queue.poll(1, TimeUnit.HOURS);
                if (data == null) {
                    continue;
                }
                if (data == CLOSE) {
                    break;
                }
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                synchronized (this) {
                    pending -= data.length;
                }
            }
        } catch (IOException | InterruptedException e) {
            // The peer went away or we are shutting down; the reader side notices and cleans up.
        } finally {
            synchronized (this) {
                closing = true;
            }
            closeChannel();
        }
    }

    private void closeChannel() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing left to do for a connection that failed to close
        }
    }
}
