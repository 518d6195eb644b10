// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Guest RAM as an anonymous private mapping (mmap through the FFM API): the kernel hands out zero pages lazily, so a
 * domain's host RSS grows with what the guest touches, not with its configured memory, and creating a 4 GiB domain
 * does not first write 4 GiB of zeros. Falls back to {@link Arena#allocate} where mmap is unavailable.
 */
final class AnonymousMemory {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;

    static {
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        } catch (RuntimeException | LinkageError e) {
            mmap = null;
        }
        MMAP = mmap;
        MUNMAP = munmap;
    }

    private AnonymousMemory() {
    }

    /** Maps {@code size} zeroed bytes whose lifetime ends (munmap) when {@code arena} is closed. */
    static MemorySegment map(long size, Arena arena) {
        if (MMAP == null) {
            return arena.allocate(size, GuestMemory.PAGE_SIZE);
        }
        try {
            MemorySegment addr = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            if (addr.address() == -1L || addr.address() == 0L) {
                throw new OutOfMemoryError("mmap of " + (size >> 20) + " MiB guest RAM failed");
            }
            final long a = addr.address();
            return addr.reinterpret(size, arena, seg -> unmap(a, size));
        } catch (OutOfMemoryError e) {
            throw e;
        } catch (Throwable t) {
            return arena.allocate(size, GuestMemory.PAGE_SIZE);
        }
    }

    private static void unmap(long address, long size) {
        try {
            int rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), size);
            if (rc != 0) {
                System.getLogger(AnonymousMemory.class.getName()).log(System.Logger.Level.WARNING,
                        "event=munmap-failed size=" + size);
            }
        } catch (Throwable t) {
            System.getLogger(AnonymousMemory.class.getName()).log(System.Logger.Level.WARNING,
                    "event=munmap-failed size=" + size + " error=" + t);
        }
    }
}
