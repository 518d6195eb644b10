// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** In-memory {@link NetBackend} for device tests: frames the guest sends are collected, frames to deliver are queued. */
public final class MemoryNetBackend implements NetBackend {
    public final BlockingQueue<byte[]> sent = new LinkedBlockingQueue<>();
    public final BlockingQueue<byte[]> toGuest = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    @Override
    public void send(ByteBuffer frame) {
        byte[] b = new byte[frame.remaining()];
        frame.get(b);
        if (sent.size() < 10_000) {
            sent.add(b);
        }
    }

    @Override
    public int receive(ByteBuffer dst, int timeoutMillis) throws java.io.IOException {
        if (closed) {
            return -1;
        }
        try {
            byte[] f = toGuest.poll(timeoutMillis, TimeUnit.MILLISECONDS);
            if (f == null) {
                return closed ? -1 : 0;
            }
            if (f.length > dst.remaining()) {
                return 0;
            }
            dst.put(f);
            return f.length;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public String name() {
        return "mem0";
    }

    @Override
    public void close() {
        closed = true;
    }
}
