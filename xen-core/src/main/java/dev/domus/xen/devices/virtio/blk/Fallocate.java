// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.blk;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Hole punching for discard and write-zeroes: {@code fallocate(PUNCH_HOLE | KEEP_SIZE)} through the FFM API on a
 * descriptor of its own (FileChannel has no hole punching). Absent (other OS, libc without the symbol) or failing
 * calls make the caller fall back to writing zeros.
 */
final class Fallocate implements AutoCloseable {
    private static final int O_WRONLY = 1;
    private static final int O_CLOEXEC = 0x80000;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;

    private static final MethodHandle OPEN;
    private static final MethodHandle FALLOCATE;
    private static final MethodHandle CLOSE;

    static {
        MethodHandle open = null;
        MethodHandle fallocate = null;
        MethodHandle close = null;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            fallocate = linker.downcallHandle(libc.find("fallocate").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG));
            close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
        } catch (RuntimeException | LinkageError e) {
            open = null;
        }
        OPEN = open;
        FALLOCATE = fallocate;
        CLOSE = close;
    }

    private final int fd;

    private Fallocate(int fd) {
        this.fd = fd;
    }

    /** A hole puncher for {@code file}, or empty when the platform cannot punch holes. */
    static Optional<Fallocate> open(Path file) {
        if (OPEN == null) {
            return Optional.empty();
        }
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(a.allocateFrom(file.toString()), O_WRONLY | O_CLOEXEC);
            return fd < 0 ? Optional.empty() : Optional.of(new Fallocate(fd));
        } catch (Throwable t) {
            return Optional.empty();
        }
    }

    /** Deallocates [offset, offset+len) so it reads as zeros; false when the file system refused. */
    boolean punchHole(long offset, long len) {
        try {
            return (int) FALLOCATE.invokeExact(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing left to release
        }
    }
}
