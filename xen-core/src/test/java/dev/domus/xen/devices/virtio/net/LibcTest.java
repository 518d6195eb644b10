// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The FFM bindings capture errno from the failing call itself (no root needed: these calls fail on purpose). */
class LibcTest {

    @Test
    void failedCallsReportTheirErrno() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Libc.newErrnoSlot(arena);
            assertThat(Libc.open(errno, arena.allocateFrom("/nonexistent/domus"), Libc.O_RDWR)).isEqualTo(-1);
            assertThat(Libc.errno(errno)).isEqualTo(2);
            assertThat(Libc.failure("open /nonexistent/domus", errno))
                    .hasMessage("open /nonexistent/domus: No such file or directory (ENOENT)");

            assertThat(Libc.read(errno, -1, arena.allocate(16), 16)).isEqualTo(-1L);
            assertThat(Libc.describe(Libc.errno(errno))).isEqualTo("Bad file descriptor (EBADF)");

            int fd = Libc.open(errno, arena.allocateFrom("/dev/null"), Libc.O_RDWR | Libc.O_CLOEXEC);
            assertThat(fd).isNotNegative();
            assertThat(Libc.ioctl(errno, fd, Libc.TUNSETIFF, arena.allocate(Libc.IFREQ))).isEqualTo(-1);
            assertThat(Libc.describe(Libc.errno(errno))).isEqualTo("Inappropriate ioctl for device (ENOTTY)");
            assertThat(Libc.close(errno, fd)).isZero();
        }
    }

    @Test
    void ifreqHasTheKernelLayout() {
        assertThat(Libc.IFREQ.byteSize()).isEqualTo(40);
        assertThat(Libc.IFR_FLAGS_OFFSET).isEqualTo(16);
        assertThat(Libc.POLLFD.byteSize()).isEqualTo(8);
        assertThat(Libc.POLLFD_REVENTS).isEqualTo(6);
    }

    @Test
    void unknownErrnoIsStillDescribed() {
        assertThat(Libc.describe(4095)).isEqualTo("Unknown error (errno 4095)");
    }
}
