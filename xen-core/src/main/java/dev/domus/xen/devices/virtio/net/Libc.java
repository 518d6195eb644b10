// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few Linux libc calls the tap backend needs, bound once through the FFM linker. Every call captures errno into
 * a caller-supplied segment ({@link #newErrnoSlot}) so errors can name the call, the interface and the errno; each
 * thread that calls in must own its slot (a slot is written by the call and read right after it).
 *
 * <p>Constants are the x86-64/aarch64/riscv64 Linux values (the asm-generic ioctl encoding), which is every host
 * Domus runs on.
 */
final class Libc {
    static final int O_RDWR = 0x2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int EFD_NONBLOCK = 0x800;
    static final int EFD_CLOEXEC = 0x80000;
    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;

    /** {@code _IOW('T', 202, int)}. */
    static final long TUNSETIFF = 0x400454caL;
    static final long SIOCGIFFLAGS = 0x8913L;
    static final long SIOCSIFFLAGS = 0x8914L;
    static final short IFF_UP = 0x1;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;

    static final short POLLIN = 0x1;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final short POLLNVAL = 0x20;

    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int ENOMEM = 12;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOBUFS = 105;

    static final int IFNAMSIZ = 16;

    /** {@code struct ifreq}: the name, then a union of which the tap code uses {@code ifr_flags}. */
    static final StructLayout IFREQ = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(IFNAMSIZ, ValueLayout.JAVA_BYTE).withName("ifr_name"),
            MemoryLayout.unionLayout(
                    ValueLayout.JAVA_SHORT.withName("ifr_flags"),
                    ValueLayout.JAVA_INT.withName("ifr_mtu"),
                    ValueLayout.ADDRESS.withName("ifr_data"),
                    MemoryLayout.sequenceLayout(24, ValueLayout.JAVA_BYTE).withName("ifr_pad")).withName("ifr_ifru"));
    static final long IFR_FLAGS_OFFSET = IFREQ.byteOffset(MemoryLayout.PathElement.groupElement("ifr_ifru"),
            MemoryLayout.PathElement.groupElement("ifr_flags"));

    /** {@code struct pollfd { int fd; short events; short revents; }}. */
    static final StructLayout POLLFD = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("fd"),
            ValueLayout.JAVA_SHORT.withName("events"),
            ValueLayout.JAVA_SHORT.withName("revents"));
    static final long POLLFD_FD = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("fd"));
    static final long POLLFD_EVENTS = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("events"));
    static final long POLLFD_REVENTS = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("revents"));

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    // Plain (no errno capture) variants for the per-frame path: a capturing downcall slices the capture segment on
    // every call, an object C2 scalar-replaces only when it happens to inline the whole adapter (a hot receive
    // loop measured 55 heap bytes per frame, another 4). Callers use these on the frame path and repeat a call whose
    // failure is unexpected through the capturing handle to learn its errno, which is safe for the calls involved
    // (a failed tap read/write moved no frame; poll has no side effects).
    private static final MethodHandle READ_PLAIN;
    private static final MethodHandle WRITE_PLAIN;
    private static final MethodHandle POLL_PLAIN;
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle READ;
    private static final MethodHandle WRITE;
    private static final MethodHandle IOCTL;
    private static final MethodHandle POLL;
    private static final MethodHandle SOCKET;
    private static final MethodHandle EVENTFD;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        ValueLayout i32 = ValueLayout.JAVA_INT;
        ValueLayout i64 = ValueLayout.JAVA_LONG;
        ValueLayout ptr = ValueLayout.ADDRESS;
        // open(2) and ioctl(2) are variadic in C: the linker must be told, or the third argument may be passed
        // where the callee does not look for it on some ABIs.
        OPEN = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(i32, ptr, i32, i32),
                errno, Linker.Option.firstVariadicArg(2));
        CLOSE = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(i32, i32), errno);
        READ = linker.downcallHandle(libc.find("read").orElseThrow(), FunctionDescriptor.of(i64, i32, ptr, i64),
                errno);
        WRITE = linker.downcallHandle(libc.find("write").orElseThrow(), FunctionDescriptor.of(i64, i32, ptr, i64),
                errno);
        IOCTL = linker.downcallHandle(libc.find("ioctl").orElseThrow(), FunctionDescriptor.of(i32, i32, i64, ptr),
                errno, Linker.Option.firstVariadicArg(2));
        POLL = linker.downcallHandle(libc.find("poll").orElseThrow(), FunctionDescriptor.of(i32, ptr, i64, i32),
                errno);
        SOCKET = linker.downcallHandle(libc.find("socket").orElseThrow(), FunctionDescriptor.of(i32, i32, i32, i32),
                errno);
        READ_PLAIN = linker.downcallHandle(libc.find("read").orElseThrow(), FunctionDescriptor.of(i64, i32, ptr, i64));
        WRITE_PLAIN = linker.downcallHandle(libc.find("write").orElseThrow(),
                FunctionDescriptor.of(i64, i32, ptr, i64));
        POLL_PLAIN = linker.downcallHandle(libc.find("poll").orElseThrow(), FunctionDescriptor.of(i32, ptr, i64, i32));
        EVENTFD = linker.downcallHandle(libc.find("eventfd").orElseThrow(), FunctionDescriptor.of(i32, i32, i32),
                errno);
    }

    private Libc() {
    }

    /** A segment the calls write errno into; one per thread that makes calls. */
    static MemorySegment newErrnoSlot(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    static int errno(MemorySegment slot) {
        return (int) ERRNO.get(slot, 0L);
    }

    static int open(MemorySegment errno, MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(errno, path, flags, 0);
        } catch (Throwable t) {
            throw linkFailure("open", t);
        }
    }

    static int close(MemorySegment errno, int fd) {
        try {
            return (int) CLOSE.invokeExact(errno, fd);
        } catch (Throwable t) {
            throw linkFailure("close", t);
        }
    }

    static long read(MemorySegment errno, int fd, MemorySegment buf, long len) {
        try {
            return (long) READ.invokeExact(errno, fd, buf, len);
        } catch (Throwable t) {
            throw linkFailure("read", t);
        }
    }

    /** read(2) without errno: for the fast path; on -1 repeat through {@link #read} to learn why. */
    static long readPlain(int fd, MemorySegment buf, long len) {
        try {
            return (long) READ_PLAIN.invokeExact(fd, buf, len);
        } catch (Throwable t) {
            throw linkFailure("read", t);
        }
    }

    /** write(2) without errno: for the fast path; on -1 repeat through {@link #write} to learn why. */
    static long writePlain(int fd, MemorySegment buf, long len) {
        try {
            return (long) WRITE_PLAIN.invokeExact(fd, buf, len);
        } catch (Throwable t) {
            throw linkFailure("write", t);
        }
    }

    /** poll(2) without errno: on -1 repeat through {@link #poll} (timeout 0) to learn why. */
    static int pollPlain(MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return (int) POLL_PLAIN.invokeExact(fds, nfds, timeoutMillis);
        } catch (Throwable t) {
            throw linkFailure("poll", t);
        }
    }

    static long write(MemorySegment errno, int fd, MemorySegment buf, long len) {
        try {
            return (long) WRITE.invokeExact(errno, fd, buf, len);
        } catch (Throwable t) {
            throw linkFailure("write", t);
        }
    }

    static int ioctl(MemorySegment errno, int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL.invokeExact(errno, fd, request, arg);
        } catch (Throwable t) {
            throw linkFailure("ioctl", t);
        }
    }

    static int poll(MemorySegment errno, MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(errno, fds, nfds, timeoutMillis);
        } catch (Throwable t) {
            throw linkFailure("poll", t);
        }
    }

    static int socket(MemorySegment errno, int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(errno, domain, type, protocol);
        } catch (Throwable t) {
            throw linkFailure("socket", t);
        }
    }

    static int eventfd(MemorySegment errno, int initval, int flags) {
        try {
            return (int) EVENTFD.invokeExact(errno, initval, flags);
        } catch (Throwable t) {
            throw linkFailure("eventfd", t);
        }
    }

    /** "what: Operation not permitted (EPERM)" for the errno in {@code slot}. */
    static IOException failure(String what, MemorySegment slot) {
        return new IOException(what + ": " + describe(errno(slot)));
    }

    static String describe(int errno) {
        String[] e = switch (errno) {
            case 1 -> new String[] {"EPERM", "Operation not permitted"};
            case 2 -> new String[] {"ENOENT", "No such file or directory"};
            case 4 -> new String[] {"EINTR", "Interrupted system call"};
            case 5 -> new String[] {"EIO", "Input/output error"};
            case 6 -> new String[] {"ENXIO", "No such device or address"};
            case 9 -> new String[] {"EBADF", "Bad file descriptor"};
            case 11 -> new String[] {"EAGAIN", "Resource temporarily unavailable"};
            case 12 -> new String[] {"ENOMEM", "Cannot allocate memory"};
            case 13 -> new String[] {"EACCES", "Permission denied"};
            case 14 -> new String[] {"EFAULT", "Bad address"};
            case 16 -> new String[] {"EBUSY", "Device or resource busy"};
            case 17 -> new String[] {"EEXIST", "File exists"};
            case 19 -> new String[] {"ENODEV", "No such device"};
            case 22 -> new String[] {"EINVAL", "Invalid argument"};
            case 23 -> new String[] {"ENFILE", "Too many open files in system"};
            case 24 -> new String[] {"EMFILE", "Too many open files"};
            case 25 -> new String[] {"ENOTTY", "Inappropriate ioctl for device"};
            case 77 -> new String[] {"EBADFD", "File descriptor in bad state"};
            case 90 -> new String[] {"EMSGSIZE", "Message too long"};
            case 100 -> new String[] {"ENETDOWN", "Network is down"};
            case 105 -> new String[] {"ENOBUFS", "No buffer space available"};
            default -> new String[] {"errno " + errno, "Unknown error"};
        };
        return e[1] + " (" + e[0] + ")";
    }

    private static IllegalStateException linkFailure(String call, Throwable t) {
        // invokeExact only throws if the binding itself is wrong (a programming error), never for a failed call.
        return new IllegalStateException("native call " + call + " failed to link: " + t, t);
    }
}
