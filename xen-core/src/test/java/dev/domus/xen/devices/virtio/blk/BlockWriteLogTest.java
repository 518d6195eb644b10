// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.blk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.devices.virtio.transport.TestDriver;
import dev.domus.xen.devices.virtio.transport.TestDriver.Buf;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockWriteLogTest {
    private static final int B = BlockWriteLog.BLOCK_SIZE;

    private static long dirty(BlockWriteLog log) {
        long n = 0;
        for (int w = 0; w < log.words(); w++) {
            n += Long.bitCount(log.fetchAndClear(w));
        }
        return n;
    }

    @Test
    void offRecordsNothing() {
        BlockWriteLog log = new BlockWriteLog(10L * B);
        log.mark(0, 5L * B);
        log.setEnabled(true);
        assertThat(dirty(log)).isZero();
    }

    @Test
    void marksEveryBlockATouchedRangeCoversAndClearsOnFetch() {
        BlockWriteLog log = new BlockWriteLog(200L * B + 512); // 201 blocks, the last one short
        assertThat(log.blocks()).isEqualTo(201);
        assertThat(log.words()).isEqualTo(4);
        log.setEnabled(true);
        log.mark(B - 512, 1024);              // straddles blocks 0 and 1
        log.mark(63L * B, B);                 // exactly block 63
        log.mark(64L * B + 1, 1);             // inside block 64 (next word)
        log.mark(200L * B, 512);              // the short last block
        assertThat(log.fetchAndClear(0)).isEqualTo(0b11L | 1L << 63);
        assertThat(log.fetchAndClear(1)).isEqualTo(1L);
        assertThat(log.fetchAndClear(3)).isEqualTo(1L << (200 - 192));
        assertThat(dirty(log)).as("fetch cleared everything").isZero();
    }

    @Test
    void ignoresRangesOutsideTheDiskAndEmptyWritesAndClampsTheTail() {
        BlockWriteLog log = new BlockWriteLog(4L * B);
        log.setEnabled(true);
        log.mark(-1, B);
        log.mark(4L * B, B);
        log.mark(B, 0);
        assertThat(dirty(log)).isZero();
        log.mark(3L * B, 100L * B); // runs past the end: only block 3
        assertThat(log.fetchAndClear(0)).isEqualTo(1L << 3);
    }

    @Test
    void enablingAgainStartsClean() {
        BlockWriteLog log = new BlockWriteLog(4L * B);
        log.setEnabled(true);
        log.mark(0, 4L * B);
        log.setEnabled(false);
        log.setEnabled(true);
        assertThat(dirty(log)).isZero();
    }

    @TempDir
    Path dir;

    /** A guest OUT / DISCARD / WRITE_ZEROES through the real device marks exactly the blocks it touched. */
    @Test
    void guestWritesDiscardsAndWriteZeroesAreTrackedWhileOn() throws IOException {
        Path img = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(16L * B);
        }
        BlkDevice dev = BlkDevice.open("vda", img, false);
        try (TestDriver d = new TestDriver(dev).start(64)) {
            BlockWriteLog log = dev.writeLog();
            assertThat(log.bytes()).isEqualTo(16L * B);
            assertThat(out(d, BlkDevice.T_OUT, 0, new byte[4096])).as("write while off").isZero();
            assertThat(dirty(log)).isZero();
            log.setEnabled(true);
            assertThat(out(d, BlkDevice.T_OUT, (2L * B - 512) / 512, new byte[1024])).isZero(); // blocks 1, 2
            byte[] seg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(5L * B / 512)
                    .putInt(B / 512).putInt(0).array();
            assertThat(out(d, BlkDevice.T_DISCARD, 0, seg)).isZero();                         // block 5
            byte[] wz = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(9L * B / 512 + 8)
                    .putInt(8).putInt(1).array();
            assertThat(out(d, BlkDevice.T_WRITE_ZEROES, 0, wz)).isZero();                     // block 9
            assertThat(out(d, BlkDevice.T_IN, 12L * B / 512, null)).as("reads are not writes").isZero();
            assertThat(log.fetchAndClear(0)).isEqualTo(1L << 1 | 1L << 2 | 1L << 5 | 1L << 9);
        }
    }

    private static int out(TestDriver d, int type, long sector, byte[] data) {
        long h = d.alloc(16);
        d.poke(h, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(0).putLong(sector)
                .array());
        long st = d.alloc(1);
        d.poke(st, new byte[] {(byte) 0xee});
        long buf = d.alloc(data == null ? 4096 : data.length);
        if (data == null) {
            d.submit(0, new Buf(h, 16, false), new Buf(buf, 4096, true), new Buf(st, 1, true));
        } else {
            d.poke(buf, data);
            d.submit(0, new Buf(h, 16, false), new Buf(buf, data.length, false), new Buf(st, 1, true));
        }
        return d.peek(st, 1)[0] & 0xff;
    }
}
