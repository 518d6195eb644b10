// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.api.MachineListener;
import dev.domus.xen.devices.uart.ConsoleSink;

/**
 * Collects console bytes written by the guest (UART or SBI) and hands them to the listener in chunks: when the
 * buffer fills, and at the end of every vCPU batch, so a busy console costs one callback per batch, not per byte.
 */
final class ConsoleBuffer implements ConsoleSink {
    private final MachineListener listener;
    private final byte[] buf = new byte[4096];
    private int len;
    private volatile boolean pending;

    ConsoleBuffer(MachineListener listener) {
        this.listener = listener;
    }

    @Override
    public synchronized void write(int b) {
        if (len == buf.length) {
            flush();
        }
        buf[len++] = (byte) b;
        pending = true;
    }

    void flushIfPending() {
        if (pending) {
            flush();
        }
    }

    synchronized void flush() {
        if (len > 0) {
            try {
                listener.consoleOutput(buf, 0, len);
            } finally {
                len = 0;
                pending = false;
            }
        }
    }
}
