// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.rng;

import dev.domus.xen.devices.virtio.transport.DescriptorChain;
import dev.domus.xen.devices.virtio.transport.VirtioContext;
import dev.domus.xen.devices.virtio.transport.VirtioDevice;
import dev.domus.xen.devices.virtio.transport.Virtqueue;

import java.security.SecureRandom;

/**
 * virtio-rng (device ID 4): one request queue whose device-writable buffers are filled with host entropy
 * ({@link SecureRandom}, backed by the kernel's getrandom/urandom on Linux). At most {@link #MAX_PER_REQUEST}
 * bytes per request bound the work one notification can cause.
 */
public final class RngDevice implements VirtioDevice {
    static final int MAX_PER_REQUEST = 64 * 1024;

    private final SecureRandom random;
    private final byte[] buf = new byte[4096];
    private long served;
    private VirtioContext ctx;

    public RngDevice() {
        this(new SecureRandom());
    }

    RngDevice(SecureRandom random) {
        this.random = random;
    }

    @Override
    public int deviceId() {
        return 4;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize() {
        return 64;
    }

    @Override
    public void activate(VirtioContext context) {
        ctx = context;
    }

    @Override
    public void queueNotify(int queue) {
        Virtqueue q = ctx.queue(queue);
        DescriptorChain c;
        while ((c = q.pop()) != null) {
            long want = Math.min(c.writableBytes(), MAX_PER_REQUEST);
            long done = 0;
            while (done < want) {
                int n = (int) Math.min(buf.length, want - done);
                random.nextBytes(buf);
                c.write(done, buf, 0, n);
                done += n;
            }
            served += done;
            q.push(c, done);
        }
        q.notifyDriver();
    }

    @Override
    public void reset() {
        ctx = null;
    }

    @Override
    public String name() {
        return "rng";
    }

    public RngState state() {
        return new RngState(served);
    }
}
