// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.uart;

import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A {@link ConsoleSink} that collects bytes in a buffer and writes them to an {@link OutputStream} at a newline,
 * when the buffer is full, or on {@link #flush()}. Output without a newline (a shell prompt) stays buffered until
 * someone flushes, so the owner should call {@link #flush()} periodically (every few tens of milliseconds). After
 * the first {@link IOException} the sink drops everything and reports the error through {@link #error()}.
 */
public final class BufferedConsoleSink implements ConsoleSink, Flushable {
    private final OutputStream out;
    private final byte[] buf;
    private int len;
    private IOException error;

    /** A sink writing to {@code out} through a buffer of {@code capacity} bytes. */
    public BufferedConsoleSink(OutputStream out, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("console buffer capacity must be positive, got " + capacity);
        }
        this.out = out;
        this.buf = new byte[capacity];
    }

    @Override
    public synchronized void write(int b) {
        buf[len++] = (byte) b;
        if (b == '\n' || len == buf.length) {
            drain();
        }
    }

    /** Writes out whatever is buffered. Never throws. */
    @Override
    public synchronized void flush() {
        drain();
    }

    /** The first write failure, if any. */
    public synchronized java.util.Optional<IOException> error() {
        return java.util.Optional.ofNullable(error);
    }

    private void drain() {
        if (len == 0) {
            return;
        }
        if (error == null) {
            try {
                out.write(buf, 0, len);
                out.flush();
            } catch (IOException e) {
                error = e;
            }
        }
        len = 0;
    }
}
