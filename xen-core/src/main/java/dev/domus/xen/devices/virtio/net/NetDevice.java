// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import dev.domus.xen.devices.virtio.transport.DescriptorChain;
import dev.domus.xen.devices.virtio.transport.VirtioContext;
import dev.domus.xen.devices.virtio.transport.VirtioDevice;
import dev.domus.xen.devices.virtio.transport.Virtqueue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.logging.Logger;

/**
 * virtio-net (device ID 1) over a {@link NetBackend}: queue 0 receives, queue 1 transmits, frames behind the
 * 12-byte virtio-net header (VERSION_1 layout, {@code num_buffers} = 1). The guest may leave checksums partial
 * ({@code CSUM}) and hand over TCP/IPv4 super-frames ({@code HOST_TSO4}); {@link Offload} finishes them into plain
 * frames of at most {@link #MAX_FRAME} bytes, because the tap backend carries no virtio-net header. Received
 * frames are marked DATA_VALID ({@code GUEST_CSUM}) so the guest skips verifying checksums the host already
 * made.
 *
 * <p>Transmit runs on the notifying vCPU thread. Receive runs on a host thread of the device that waits on the
 * backend, holds one frame until the guest posts a receive buffer (the guest's RX notification wakes it; the
 * kernel's tap queue absorbs and then drops what arrives meanwhile, like QEMU's backpressure) and drops frames
 * while the driver is not running. Malformed transmit buffers are dropped and counted; they never
 * reach the host.
 */
public final class NetDevice implements VirtioDevice {
    private static final Logger LOG = Logger.getLogger(NetDevice.class.getName());

    static final int RX = 0;
    static final int TX = 1;
    static final int HDR = 12;
    /** Largest frame accepted either way: 1500-byte MTU + Ethernet header + one VLAN tag. */
    static final int MAX_FRAME = 1518;
    static final int MIN_FRAME = 14;
    static final int F_CSUM = 0;
    static final int F_GUEST_CSUM = 1;
    static final int F_MAC = 5;
    static final int F_HOST_TSO4 = 11;
    static final int HDR_F_NEEDS_CSUM = 1;
    static final int HDR_F_DATA_VALID = 2;
    static final int GSO_NONE = 0;
    static final int GSO_TCPV4 = 1;
    static final int GSO_ECN = 0x80;
    /** Largest TSO super-frame the guest may hand over (64 KiB IP packet + Ethernet header). */
    static final int MAX_GSO_FRAME = 65536 + 14;
    static final int F_STATUS = 16;
    static final int LINK_UP = 1;

    private final NetBackend backend;
    private final byte[] mac;
    private final byte[] config = new byte[8];
    private final byte[] txCopy = new byte[HDR + MAX_GSO_FRAME];
    private final byte[] txSeg = new byte[MAX_FRAME];
    private final ByteBuffer txFrame = ByteBuffer.allocateDirect(MAX_FRAME);
    private final byte[] rxBytes = new byte[HDR + 65536];
    private final ByteBuffer rxFrame = ByteBuffer.wrap(rxBytes, HDR, 65536).slice();
    private final Object rxWake = new Object();
    private final Thread rxThread;
    private volatile VirtioContext ctx;
    private volatile boolean closed;
    private long txFrames;
    private long rxFrames;
    private volatile long dropped;

    /** A NIC with MAC {@code mac} (6 bytes) on {@code backend}; starts the receive thread. */
    public NetDevice(byte[] mac, NetBackend backend) {
        if (mac.length != 6) {
            throw new IllegalArgumentException("MAC must be 6 bytes");
        }
        this.mac = mac.clone();
        this.backend = backend;
        System.arraycopy(mac, 0, config, 0, 6);
        config[6] = LINK_UP;
        this.rxThread = Thread.ofPlatform().daemon(true).name("virtio-net-rx-" + backend.name()).start(this::rxLoop);
    }

    @Override
    public int deviceId() {
        return 1;
    }

    @Override
    public long deviceFeatures() {
        return (1L << F_MAC) | (1L << F_STATUS) | (1L << F_CSUM) | (1L << F_GUEST_CSUM) | (1L << F_HOST_TSO4);
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int maxQueueSize() {
        return 256;
    }

    @Override
    public long readConfig(int offset, int width) {
        if (offset < 0 || offset + width > config.length) {
            return 0;
        }
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = (v << 8) | (config[offset + i] & 0xff);
        }
        return v;
    }

    @Override
    public void activate(VirtioContext context) {
        ctx = context;
        synchronized (rxWake) {
            rxWake.notifyAll();
        }
    }

    @Override
    public void queueNotify(int queue) {
        if (queue == TX) {
            transmit();
        } else {
            synchronized (rxWake) {
                rxWake.notifyAll();
            }
        }
    }

    private void transmit() {
        Virtqueue q = ctx.queue(TX);
        DescriptorChain c;
        while ((c = q.pop()) != null) {
            long len = c.readableBytes();
            if (len < HDR + MIN_FRAME || len > HDR + MAX_GSO_FRAME) {
                dropped++;
            } else {
                int n = c.read(0, txCopy, 0, (int) len);
                if (!sendFrame(n - HDR)) {
                    dropped++;
                }
            }
            q.push(c, 0);
        }
        q.notifyDriver();
    }

    /** Sends the frame in {@code txCopy[HDR, HDR+len)} as its virtio-net header says; false when refused. */
    private boolean sendFrame(int len) {
        int flags = txCopy[0] & 0xff;
        int gso = txCopy[1] & 0xff & ~GSO_ECN;
        int gsoSize = u16le(txCopy, 4);
        int csumStart = u16le(txCopy, 6);
        int csumOffset = u16le(txCopy, 8);
        long f = ctx.negotiatedFeatures();
        if (gso == GSO_TCPV4 && (f & (1L << F_HOST_TSO4)) != 0) {
            int segs = Offload.segmentTcp4(txCopy, HDR, len, gsoSize, MAX_FRAME, txSeg, (buf, l) -> send(buf, 0, l));
            return segs > 0;
        }
        if (gso != GSO_NONE || len > MAX_FRAME) {
            return false;
        }
        if ((flags & HDR_F_NEEDS_CSUM) != 0 && (f & (1L << F_CSUM)) != 0
                && !Offload.completeChecksum(txCopy, HDR, len, csumStart, csumOffset)) {
            return false;
        }
        send(txCopy, HDR, len);
        return true;
    }

    private void send(byte[] buf, int off, int len) {
        txFrame.clear();
        txFrame.put(buf, off, len).flip();
        try {
            backend.send(txFrame);
            txFrames++;
        } catch (IOException e) {
            dropped++;
        }
    }

    private static int u16le(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
    }

    private void rxLoop() {
        int pending = 0;
        while (!closed) {
            try {
                if (pending == 0) {
                    rxFrame.clear();
                    int n = backend.receive(rxFrame, 200);
                    if (n < 0) {
                        return;
                    }
                    if (n == 0) {
                        continue;
                    }
                    if (n < MIN_FRAME || n > MAX_FRAME) {
                        dropped++;
                        continue;
                    }
                    pending = n;
                }
                int r = deliver(pending);
                if (r != 0) {
                    if (r < 0) {
                        dropped++;
                    }
                    pending = 0;
                    continue;
                }
                synchronized (rxWake) {
                    rxWake.wait(10);
                }
            } catch (IOException e) {
                if (!closed) {
                    LOG.warning(() -> "event=net-rx-error backend=" + backend.name() + " error=\"" + e.getMessage()
                            + "\"");
                }
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** 1 = delivered, 0 = no receive buffer yet, -1 = driver not running or buffer too small (frame dropped). */
    private int deliver(int len) {
        VirtioContext c = ctx;
        if (c == null) {
            return -1;
        }
        int[] result = {-1};
        c.runLocked(() -> {
            Virtqueue q = c.queue(RX);
            DescriptorChain chain = q.pop();
            if (chain == null) {
                result[0] = 0;
                return;
            }
            if (chain.writableBytes() < HDR + len) {
                q.undoPop();
                result[0] = -1;
                return;
            }
            java.util.Arrays.fill(rxBytes, 0, HDR, (byte) 0);
            if ((c.negotiatedFeatures() & (1L << F_GUEST_CSUM)) != 0) {
                // The tap hands over frames with complete checksums (no vnet header: the kernel finished them).
                rxBytes[0] = HDR_F_DATA_VALID;
            }
            rxBytes[10] = 1; // num_buffers
            chain.write(0, rxBytes, 0, HDR + len);
            q.push(chain, HDR + len);
            q.notifyDriver();
            rxFrames++;
            result[0] = 1;
        });
        return result[0];
    }

    @Override
    public void reset() {
        ctx = null;
    }

    @Override
    public String name() {
        return "net-" + backend.name();
    }

    public NetState state() {
        return new NetState(HexFormat.ofDelimiter(":").formatHex(mac), backend.name(), txFrames, rxFrames, dropped);
    }

    @Override
    public void close() {
        closed = true;
        backend.close();
        rxThread.interrupt();
        try {
            rxThread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
