// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.blk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.devices.virtio.transport.TestDriver;
import dev.domus.xen.devices.virtio.transport.TestDriver.Buf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image lock hand-over of a shared read-write disk during live migration: a deferred open, release at the
 * source's pause, take-over on the target, and never two holders. Within one JVM a second lock on the same file is
 * refused like another process's, so two devices here stand for the two runners.
 */
class BlkLockHandoverTest {
    @TempDir
    Path tmp;

    @Test
    void theLockMovesFromSourceToTargetAndIsNeverHeldTwice() throws IOException {
        Path img = tmp.resolve("shared.img");
        Files.write(img, new byte[64 * 1024]);
        BlkDevice source = BlkDevice.open("vdb", img, false);
        try {
            assertThat(source.locked()).isTrue();
            assertThatThrownBy(() -> BlkDevice.open("vdb", img, false)).isInstanceOf(IOException.class)
                    .hasMessageContaining("in use by another domain");

            BlkDevice.deferLock(img);
            BlkDevice target = BlkDevice.open("vdb", img, false);
            try {
                assertThat(target.locked()).as("opened while the source still holds the lock").isFalse();
                assertThatThrownBy(() -> target.acquireLock(50)).isInstanceOf(IOException.class)
                        .hasMessageContaining("still locked");

                source.releaseLock(); // the pause: flushed and let go
                assertThat(source.locked()).isFalse();
                target.acquireLock(1_000); // after COMMIT
                assertThat(target.locked()).isTrue();
                assertThatThrownBy(() -> source.acquireLock(50)).as("the source cannot take it back now")
                        .isInstanceOf(IOException.class);
            } finally {
                target.close();
            }
            source.acquireLock(1_000); // the target closed (e.g. discarded): free again
            assertThat(source.locked()).isTrue();
        } finally {
            source.close();
        }
    }

    @Test
    void aDeferredOpenIsUsedOnceAndReadOnlyDisksAreNeverDeferred() throws IOException {
        Path img = tmp.resolve("once.img");
        Files.write(img, new byte[4096]);
        BlkDevice.deferLock(img);
        BlkDevice first = BlkDevice.open("vda", img, false);
        first.acquireLock(1_000);
        first.close();
        BlkDevice second = BlkDevice.open("vda", img, false);
        try {
            assertThat(second.locked()).as("the deferral applied to one open only").isTrue();
        } finally {
            second.close();
        }
        BlkDevice.deferLock(img);
        BlkDevice ro = BlkDevice.open("vda", img, true);
        try {
            assertThat(ro.locked()).as("read-only disks share the lock, nothing to hand over").isTrue();
        } finally {
            ro.close();
        }
        BlkDevice.deferLock(img); // still pending after the read-only open: consumed here
        BlkDevice rw = BlkDevice.open("vda", img, false);
        assertThat(rw.locked()).isFalse();
        rw.close();
    }

    @Test
    void aDeviceWithoutItsLockServesNoRequestUntilItGetsItBack() throws IOException {
        Path img = tmp.resolve("guarded.img");
        Files.write(img, new byte[64 * 1024]);
        BlkDevice other = BlkDevice.open("vdb", img, false); // the other side holds the lock
        BlkDevice.deferLock(img);
        try (TestDriver d = new TestDriver(BlkDevice.open("vdb", img, false)).start(64)) {
            byte[] data = new byte[512];
            java.util.Arrays.fill(data, (byte) 0x33);
            assertThat(write(d, data)).as("write while another process holds the lock").isEqualTo(BlkDevice.S_IOERR);
            assertThat(Files.readAllBytes(img)[0]).as("nothing written").isZero();
            other.close(); // released: the next request takes the lock and is served
            assertThat(write(d, data)).isEqualTo(BlkDevice.S_OK);
            assertThat(Files.readAllBytes(img)[0]).isEqualTo((byte) 0x33);
            assertThatThrownBy(() -> BlkDevice.open("vdb", img, false)).as("now it holds the lock")
                    .isInstanceOf(IOException.class);
        } finally {
            other.close();
        }
    }

    private static int write(TestDriver d, byte[] data) {
        long h = d.alloc(16);
        d.poke(h, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(BlkDevice.T_OUT).putInt(0)
                .putLong(0).array());
        long buf = d.alloc(data.length);
        d.poke(buf, data);
        long st = d.alloc(1);
        d.poke(st, new byte[] {(byte) 0xee});
        d.submit(0, new Buf(h, 16, false), new Buf(buf, data.length, false), new Buf(st, 1, true));
        return d.peek(st, 1)[0] & 0xff;
    }
}
