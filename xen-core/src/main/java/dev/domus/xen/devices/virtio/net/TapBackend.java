// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Linux tap interface opened through the FFM API: {@code /dev/net/tun} with {@code O_NONBLOCK}, {@code TUNSETIFF}
 * with {@code IFF_TAP | IFF_NO_PI}, reads bounded by {@code poll(2)}, the link brought up with {@code SIOCSIFFLAGS}.
 * Errors name the call, the interface and the errno ("TUNSETIFF tap-x: Operation not permitted (EPERM)").
 *
 * <p><b>No {@code IFF_VNET_HDR}.</b> {@link NetBackend} exchanges plain Ethernet frames, and without offloads
 * negotiated ({@code TUNSETOFFLOAD}) a vnet header would always be zero: enabling it would only add a header to
 * strip and prepend on every frame. Plain frames also mean the kernel never hands us GSO super-frames or
 * checksum-partial packets, so every frame fits the guest's MTU and is complete on the wire. The price is that the
 * host stack segments and checksums in software before the tap, and the guest does the same before virtio-net;
 * when the virtio-net model offers {@code VIRTIO_NET_F_CSUM}/{@code GUEST_TSO4}, this class is where vnet
 * headers and {@code TUNSETOFFLOAD} would be added, behind a separate method that carries the header.
 *
 * <p><b>Lifetime.</b> The tap is not made persistent: the kernel removes an interface this process created when
 * the last descriptor closes (a domain runner that dies leaves no tap behind). A persistent tap created beforehand
 * ({@code ip tuntap add mode tap}) is attached to and survives. Moving the interface to another network namespace
 * ({@code ip link set <tap> netns <ns>}) keeps this descriptor working; the kernel takes the link down on the move.
 * If the interface is deleted under the backend ({@code ip link del}), {@code send} and {@code receive} throw
 * {@link IOException} ("read from tap X: File descriptor in bad state (EBADFD)") rather than hang.
 *
 * <p><b>Threading.</b> One thread may send while another receives; concurrent senders (or receivers) serialize.
 * {@link #close()} is idempotent, callable from any thread, and wakes a blocked {@link #receive} through an
 * eventfd polled next to the tap; descriptors are released only once no call is inside them, so a descriptor
 * number can never be reused under a running read. Neither path allocates per frame: frames are copied through two
 * native buffers allocated at open, and the per-frame calls use downcalls without errno capture (see {@code Libc}):
 * errno is only captured where a failure is not the expected "nothing queued" (a read after poll said readable, a
 * failed write or poll), by repeating that call through the capturing handle.
 */
public final class TapBackend implements NetBackend {
    /** Largest frame either direction: a 65535-byte MTU plus Ethernet and VLAN headers, rounded up. */
    public static final int MAX_FRAME = 65_600;
    /** Shortest frame the tap accepts: an Ethernet header. */
    public static final int MIN_FRAME = 14;

    private static final System.Logger LOG = System.getLogger(TapBackend.class.getName());
    private static final int CLOSED = 1 << 30;

    private final String name;
    private final int tapFd;
    private final int wakeFd;
    private final Arena arena;
    // One errno slot and one buffer per path: the send and receive paths run on different threads at once.
    private final MemorySegment rxErrno;
    private final MemorySegment txErrno;
    private final MemorySegment closeErrno;
    private final MemorySegment rxBuf;
    private final MemorySegment txBuf;
    private final ByteBuffer rxView;
    private final ByteBuffer txView;
    private final MemorySegment pollFds;
    private final MemorySegment wakeValue;
    private final Object rxLock = new Object();
    private final Object txLock = new Object();
    /** Bit 30: closed; low bits: calls currently using the descriptors (close counts itself while it signals). */
    private final AtomicInteger state = new AtomicInteger();

    // Each counter has one writer (the path holding its lock); volatile so stats() reads current values.
    private volatile long txFrames;
    private volatile long txBytes;
    private volatile long txDropped;
    private volatile long rxFrames;
    private volatile long rxBytes;
    private volatile long rxDropped;

    private TapBackend(String name, int tapFd, int wakeFd, Arena arena) {
        this.name = name;
        this.tapFd = tapFd;
        this.wakeFd = wakeFd;
        this.arena = arena;
        this.rxErrno = Libc.newErrnoSlot(arena);
        this.txErrno = Libc.newErrnoSlot(arena);
        this.closeErrno = Libc.newErrnoSlot(arena);
        this.rxBuf = arena.allocate(MAX_FRAME, 64);
        this.txBuf = arena.allocate(MAX_FRAME, 64);
        this.rxView = rxBuf.asByteBuffer();
        this.txView = txBuf.asByteBuffer();
        this.pollFds = arena.allocate(Libc.POLLFD, 2);
        pollFds.set(ValueLayout.JAVA_INT, Libc.POLLFD_FD, tapFd);
        pollFds.set(ValueLayout.JAVA_SHORT, Libc.POLLFD_EVENTS, Libc.POLLIN);
        pollFds.set(ValueLayout.JAVA_INT, Libc.POLLFD.byteSize() + Libc.POLLFD_FD, wakeFd);
        pollFds.set(ValueLayout.JAVA_SHORT, Libc.POLLFD.byteSize() + Libc.POLLFD_EVENTS, Libc.POLLIN);
        this.wakeValue = arena.allocate(ValueLayout.JAVA_LONG);
        wakeValue.set(ValueLayout.JAVA_LONG, 0, 1L);
    }

    /**
     * Opens (creating if needed) tap {@code ifname} (1..15 chars [A-Za-z0-9_.-]) in the calling process's network
     * namespace, IFF_TAP|IFF_NO_PI, brings the link up.
     *
     * @throws IllegalArgumentException if {@code ifname} is not a valid interface name
     * @throws IOException naming the failed step and errno, e.g. no {@code /dev/net/tun}, no CAP_NET_ADMIN, or an
     *     interface of that name that is not a tap or is attached elsewhere
     */
    public static TapBackend open(String ifname) throws IOException {
        LinkNames.check("tap interface name", ifname);
        Arena arena = Arena.ofShared();
        int fd = -1;
        int wake = -1;
        try {
            MemorySegment errno = Libc.newErrnoSlot(arena);
            fd = Libc.open(errno, arena.allocateFrom("/dev/net/tun"), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
            if (fd < 0) {
                int e = Libc.errno(errno);
                throw new IOException("open /dev/net/tun for tap " + ifname + ": " + Libc.describe(e)
                        + (e == 2 || e == 19 ? " (no tun driver: modprobe tun, or pass /dev/net/tun into the container)"
                        : ""));
            }
            MemorySegment ifr = ifreq(arena, ifname);
            ifr.set(ValueLayout.JAVA_SHORT, Libc.IFR_FLAGS_OFFSET, (short) (Libc.IFF_TAP | Libc.IFF_NO_PI));
            if (Libc.ioctl(errno, fd, Libc.TUNSETIFF, ifr) < 0) {
                throw new IOException("TUNSETIFF " + ifname + ": " + Libc.describe(Libc.errno(errno))
                        + tunsetiffHint(Libc.errno(errno), ifname));
            }
            String actual = ifr.getString(0, StandardCharsets.US_ASCII);
            if (!actual.equals(ifname)) {
                throw new IOException("TUNSETIFF " + ifname + ": kernel named the interface " + actual);
            }
            bringUp(arena, errno, ifname);
            wake = Libc.eventfd(errno, 0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
            if (wake < 0) {
                throw Libc.failure("eventfd for tap " + ifname, errno);
            }
            TapBackend tap = new TapBackend(ifname, fd, wake, arena);
            LOG.log(System.Logger.Level.INFO, "event=tap-open ifname=" + ifname + " fd=" + fd + " vnet_hdr=false");
            return tap;
        } catch (IOException | RuntimeException e) {
            MemorySegment errno = Libc.newErrnoSlot(arena);
            if (wake >= 0) {
                Libc.close(errno, wake);
            }
            if (fd >= 0) {
                Libc.close(errno, fd);
            }
            arena.close();
            throw e;
        }
    }

    private static MemorySegment ifreq(Arena arena, String ifname) {
        MemorySegment ifr = arena.allocate(Libc.IFREQ);
        byte[] n = ifname.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(n, 0, ifr, ValueLayout.JAVA_BYTE, 0, n.length);
        return ifr;
    }

    private static String tunsetiffHint(int errno, String ifname) {
        return switch (errno) {
            case 1 -> " (creating or attaching a tap needs CAP_NET_ADMIN, or ownership of a persistent tap)";
            case Libc.EINVAL -> " (an interface named " + ifname + " may exist and not be a tap)";
            case 16 -> " (tap " + ifname + " is already attached to another descriptor)";
            default -> "";
        };
    }

    /** SIOCGIFFLAGS then SIOCSIFFLAGS with IFF_UP, on a throwaway AF_INET datagram socket of this namespace. */
    private static void bringUp(Arena arena, MemorySegment errno, String ifname) throws IOException {
        int sock = Libc.socket(errno, Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (sock < 0) {
            throw Libc.failure("socket(AF_INET, SOCK_DGRAM) to bring up " + ifname, errno);
        }
        try {
            MemorySegment ifr = ifreq(arena, ifname);
            if (Libc.ioctl(errno, sock, Libc.SIOCGIFFLAGS, ifr) < 0) {
                throw Libc.failure("SIOCGIFFLAGS " + ifname, errno);
            }
            short flags = ifr.get(ValueLayout.JAVA_SHORT, Libc.IFR_FLAGS_OFFSET);
            ifr.set(ValueLayout.JAVA_SHORT, Libc.IFR_FLAGS_OFFSET, (short) (flags | Libc.IFF_UP));
            if (Libc.ioctl(errno, sock, Libc.SIOCSIFFLAGS, ifr) < 0) {
                throw Libc.failure("SIOCSIFFLAGS " + ifname + " up", errno);
            }
        } finally {
            Libc.close(errno, sock);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Never blocks: a frame the tap refuses right now ({@code EAGAIN}, {@code ENOBUFS}, {@code ENOMEM},
     * {@code EIO}, {@code EINVAL}) is dropped and counted, as is a frame shorter than {@link #MIN_FRAME} or longer
     * than {@link #MAX_FRAME} (a guest may send anything). The frame's position advances to its limit.
     *
     * @throws IOException if the backend is closed or the descriptor itself fails
     */
    @Override
    public void send(ByteBuffer frame) throws IOException {
        int len = frame.remaining();
        if (!enter()) {
            throw new IOException("tap " + name + " is closed");
        }
        try {
            synchronized (txLock) {
                if (len < MIN_FRAME || len > MAX_FRAME) {
                    txDropped++;
                    frame.position(frame.limit());
                    return;
                }
                txView.put(0, frame, frame.position(), len);
                frame.position(frame.limit());
                while (true) {
                    long n = Libc.writePlain(tapFd, txBuf, len);
                    if (n < 0) {
                        // Learn errno from a second attempt (a failed tap write moved nothing, so no duplicate).
                        n = Libc.write(txErrno, tapFd, txBuf, len);
                    }
                    if (n >= 0) {
                        txFrames++;
                        txBytes += len;
                        return;
                    }
                    int e = Libc.errno(txErrno);
                    if (e == Libc.EINTR) {
                        continue;
                    }
                    if (e == Libc.EAGAIN || e == Libc.ENOBUFS || e == Libc.ENOMEM || e == Libc.EIO
                            || e == Libc.EINVAL) {
                        txDropped++;
                        return;
                    }
                    throw new IOException("write to tap " + name + ": " + Libc.describe(e));
                }
            }
        } finally {
            exit();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code dst}'s position advances by the returned length (as {@link java.nio.channels.ReadableByteChannel}
     * does). A frame longer than {@code dst.remaining()} is dropped and counted and the wait goes on.
     * {@code timeoutMillis} 0 only takes a frame already queued.
     *
     * @throws IllegalArgumentException if {@code timeoutMillis} is negative
     * @throws IOException if the descriptor fails (not on close: that returns -1)
     */
    @Override
    public int receive(ByteBuffer dst, int timeoutMillis) throws IOException {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("timeoutMillis must be >= 0, got " + timeoutMillis);
        }
        if (!enter()) {
            return -1;
        }
        try {
            synchronized (rxLock) {
                return receiveLocked(dst, timeoutMillis);
            }
        } finally {
            exit();
        }
    }

    private int receiveLocked(ByteBuffer dst, int timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        // Set when poll reported the tap readable (or in error): only then is a failed read worth an errno look;
        // otherwise a failed read is the ordinary "nothing queued" and we go to poll without asking why.
        boolean pollSaidReady = false;
        while (true) {
            if ((state.get() & CLOSED) != 0) {
                return -1;
            }
            // Read first: when frames are queued (the busy case) this skips the poll call entirely.
            long n = Libc.readPlain(tapFd, rxBuf, MAX_FRAME);
            if (n < 0 && pollSaidReady) {
                n = Libc.read(rxErrno, tapFd, rxBuf, MAX_FRAME);
                if (n < 0) {
                    int e = Libc.errno(rxErrno);
                    if (e != Libc.EAGAIN && e != Libc.EINTR) {
                        throw new IOException("read from tap " + name + ": " + Libc.describe(e));
                    }
                }
            }
            if (n >= 0) {
                pollSaidReady = false;
                int len = (int) n;
                if (len > dst.remaining()) {
                    rxDropped++;
                    continue;
                }
                int pos = dst.position();
                dst.put(pos, rxView, 0, len);
                dst.position(pos + len);
                rxFrames++;
                rxBytes += len;
                return len;
            }
            long left = deadline - System.nanoTime();
            // Round up so a sub-millisecond remainder still waits instead of spinning; 0 once the time is up, so
            // a 0 is only ever returned after a poll found nothing.
            int waitMs = left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (left + 999_999L) / 1_000_000L);
            pollFds.set(ValueLayout.JAVA_SHORT, Libc.POLLFD_REVENTS, (short) 0);
            pollFds.set(ValueLayout.JAVA_SHORT, Libc.POLLFD.byteSize() + Libc.POLLFD_REVENTS, (short) 0);
            int rc = Libc.pollPlain(pollFds, 2, waitMs);
            if (rc < 0) {
                rc = Libc.poll(rxErrno, pollFds, 2, 0);
                if (rc < 0) {
                    int e = Libc.errno(rxErrno);
                    if (e == Libc.EINTR) {
                        continue;
                    }
                    throw new IOException("poll on tap " + name + ": " + Libc.describe(e));
                }
            }
            if (rc == 0) {
                if (System.nanoTime() - deadline >= 0) {
                    return 0;
                }
                continue;
            }
            short tapEvents = pollFds.get(ValueLayout.JAVA_SHORT, Libc.POLLFD_REVENTS);
            if ((tapEvents & Libc.POLLNVAL) != 0) {
                throw new IOException("poll on tap " + name + ": descriptor not open (POLLNVAL)");
            }
            pollSaidReady = (tapEvents & (Libc.POLLIN | Libc.POLLERR | Libc.POLLHUP)) != 0;
            // The wake-up eventfd is seen by the closed check at the loop head.
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** Frame counters since open (also readable after close). */
    public NetCounters counters() {
        return new NetCounters(txFrames, txBytes, txDropped, rxFrames, rxBytes, rxDropped);
    }

    /** True once {@link #close()} has been called. */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    @Override
    public void close() {
        int s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                return;
            }
            // Mark closed and count this call as a user, so the descriptors outlive the wake-up write below.
        } while (!state.compareAndSet(s, (s | CLOSED) + 1));
        if (Libc.write(closeErrno, wakeFd, wakeValue, 8) < 0) {
            LOG.log(System.Logger.Level.WARNING, "event=tap-wake-failed ifname=" + name + " error=\""
                    + Libc.describe(Libc.errno(closeErrno)) + "\"");
        }
        exit();
    }

    private boolean enter() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s + 1)) {
                return true;
            }
        }
    }

    private void exit() {
        if (state.decrementAndGet() == CLOSED) {
            release();
        }
    }

    /** Runs exactly once: on the transition to closed with no call inside. */
    private void release() {
        Libc.close(closeErrno, wakeFd);
        Libc.close(closeErrno, tapFd);
        NetCounters c = counters();
        arena.close();
        LOG.log(System.Logger.Level.INFO, "event=tap-close ifname=" + name + " tx_frames=" + c.txFrames()
                + " tx_dropped=" + c.txDropped() + " rx_frames=" + c.rxFrames() + " rx_dropped=" + c.rxDropped());
    }
}
