// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Which pages of an anonymous mapping the kernel has ever backed ({@code mincore(2)}). Guest RAM is an anonymous
 * mmap: a page no one wrote has no frame, and reading it to find out that it is zero costs a page fault each (most
 * of a 256 MiB guest; ~0.7 s of a full pass on a loaded 2-core box). Without swap a non-resident anonymous page
 * can only be zero; with any swap active this answers empty and callers scan everything.
 */
final class Residency {
    private static final Optional<MethodHandle> MINCORE = lookup();

    private Residency() {
    }

    private static Optional<MethodHandle> lookup() {
        try {
            Linker l = Linker.nativeLinker();
            return l.defaultLookup().find("mincore").map(f -> l.downcallHandle(f, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS)));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }

    /** True when no swap device is active (then non-resident anonymous pages are zero). */
    static boolean noSwap() {
        try {
            return Files.readAllLines(Path.of("/proc/swaps")).stream().skip(1).noneMatch(l -> !l.isBlank());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * One byte per page of {@code seg} (page aligned, {@code pageSize} bytes per page), bit 0 set when the page may
     * hold data; empty when that cannot be known (no mincore, swap active, or the call failed).
     */
    static Optional<byte[]> residentPages(MemorySegment seg, long pageSize) {
        if (MINCORE.isEmpty() || !noSwap() || seg.address() % pageSize != 0) {
            return Optional.empty();
        }
        long pages = seg.byteSize() / pageSize;
        if (pages > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment vec = a.allocate(pages);
            int rc = (int) MINCORE.get().invokeExact(seg, seg.byteSize(), vec);
            if (rc != 0) {
                return Optional.empty();
            }
            return Optional.of(vec.toArray(ValueLayout.JAVA_BYTE));
        } catch (Throwable t) {
            return Optional.empty();
        }
    }
}
