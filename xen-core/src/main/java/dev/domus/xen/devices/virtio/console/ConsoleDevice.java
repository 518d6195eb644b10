// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.console;

import dev.domus.xen.devices.uart.ConsoleSink;
import dev.domus.xen.devices.virtio.transport.DescriptorChain;
import dev.domus.xen.devices.virtio.transport.VirtioContext;
import dev.domus.xen.devices.virtio.transport.VirtioDevice;
import dev.domus.xen.devices.virtio.transport.Virtqueue;

/**
 * virtio-console (device ID 3), one port, no multiport: queue 0 receives host input, queue 1 transmits guest
 * output to a {@link ConsoleSink}. Host input waits in a bounded ring ({@link #INPUT_LIMIT} bytes, the excess is
 * dropped, like a UART overrun) until the guest posts receive buffers.
 */
public final class ConsoleDevice implements VirtioDevice {
    static final int RX = 0;
    static final int TX = 1;
    static final int INPUT_LIMIT = 16 * 1024;
    /** Output accepted per notification: bounds the time a vCPU spends copying console output. */
    static final int TX_LIMIT = 1 << 20;

    private final ConsoleSink sink;
    private final byte[] input = new byte[INPUT_LIMIT];
    private int inHead;
    private int inLen;
    private final byte[] copy = new byte[4096];
    private volatile VirtioContext ctx;

    public ConsoleDevice(ConsoleSink sink) {
        this.sink = sink;
    }

    @Override
    public int deviceId() {
        return 3;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int maxQueueSize() {
        return 128;
    }

    @Override
    public void activate(VirtioContext context) {
        ctx = context;
    }

    @Override
    public void queueNotify(int queue) {
        if (queue == TX) {
            transmit();
        } else {
            deliver();
        }
    }

    private void transmit() {
        Virtqueue q = ctx.queue(TX);
        DescriptorChain c;
        long budget = TX_LIMIT;
        while (budget > 0 && (c = q.pop()) != null) {
            long len = Math.min(c.readableBytes(), budget);
            for (long pos = 0; pos < len; ) {
                int n = c.read(pos, copy, 0, (int) Math.min(copy.length, len - pos));
                for (int i = 0; i < n; i++) {
                    sink.write(copy[i]);
                }
                pos += n;
            }
            budget -= Math.max(len, 1);
            q.push(c, 0);
        }
        q.notifyDriver();
    }

    private void deliver() {
        if (ctx == null || inLen == 0) {
            return;
        }
        Virtqueue q = ctx.queue(RX);
        DescriptorChain c;
        while (inLen > 0 && (c = q.pop()) != null) {
            long room = c.writableBytes();
            int written = 0;
            while (inLen > 0 && written < room) {
                int chunk = (int) Math.min(Math.min(inLen, INPUT_LIMIT - inHead), room - written);
                c.write(written, input, inHead, chunk);
                inHead = (inHead + chunk) % INPUT_LIMIT;
                inLen -= chunk;
                written += chunk;
            }
            q.push(c, written);
        }
        q.notifyDriver();
    }

    /** Host input (console socket). Any thread; bytes beyond the buffer limit are dropped. */
    public void receive(byte[] data, int off, int len) {
        VirtioContext c = ctx;
        if (c == null) {
            return;
        }
        c.runLocked(() -> {
            for (int i = 0; i < len && inLen < INPUT_LIMIT; i++) {
                input[(inHead + inLen) % INPUT_LIMIT] = data[off + i];
                inLen++;
            }
            deliver();
        });
    }

    @Override
    public void reset() {
        ctx = null;
        inHead = 0;
        inLen = 0;
    }

    @Override
    public String name() {
        return "console";
    }

    public synchronized ConsoleState state() {
        byte[] out = new byte[inLen];
        for (int i = 0; i < inLen; i++) {
            out[i] = input[(inHead + i) % INPUT_LIMIT];
        }
        return new ConsoleState(out);
    }

    /** Restores input the guest had not read yet (at most the input limit; the rest is dropped like overflow). */
    public synchronized void restore(ConsoleState s) {
        byte[] in = s.pendingInput();
        inHead = 0;
        inLen = 0;
        for (int i = 0; i < in.length && inLen < INPUT_LIMIT; i++) {
            input[inLen++] = in[i];
        }
    }
}
