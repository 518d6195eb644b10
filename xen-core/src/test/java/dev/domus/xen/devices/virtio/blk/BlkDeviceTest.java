// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.blk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.devices.virtio.transport.TestDriver;
import dev.domus.xen.devices.virtio.transport.TestDriver.Buf;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlkDeviceTest {
    @TempDir
    Path dir;

    private Path image(long size) throws IOException {
        Path p = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    private static byte[] header(int type, long sector) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(0).putLong(sector).array();
    }

    /** Submits header + data + status; returns the status byte (read data lands in {@link #lastIn}). */
    private static int request(TestDriver d, int type, long sector, byte[] out, int inLen) {
        long h = d.alloc(16);
        d.poke(h, header(type, sector));
        long data = d.alloc(Math.max(inLen, out == null ? 1 : out.length));
        long st = d.alloc(1);
        d.poke(st, new byte[] {(byte) 0xee});
        if (out != null) {
            d.poke(data, out);
            d.submit(0, new Buf(h, 16, false), new Buf(data, out.length, false), new Buf(st, 1, true));
        } else if (inLen > 0) {
            d.submit(0, new Buf(h, 16, false), new Buf(data, inLen, true), new Buf(st, 1, true));
            lastIn = d.peek(data, inLen);
        } else {
            d.submit(0, new Buf(h, 16, false), new Buf(st, 1, true));
        }
        return d.peek(st, 1)[0] & 0xff;
    }

    private static byte[] lastIn;

    @Test
    void writesReadsAndFlushesThroughTheImage() throws IOException {
        Path img = image(1 << 20);
        try (TestDriver d = new TestDriver(BlkDevice.open("vda", img, false)).start(64)) {
            assertThat(d.mmio.read(0x100, 8)).as("capacity").isEqualTo(2048);
            byte[] data = new byte[4096];
            Arrays.fill(data, (byte) 0x5a);
            assertThat(request(d, BlkDevice.T_OUT, 8, data, 0)).isEqualTo(BlkDevice.S_OK);
            assertThat(request(d, BlkDevice.T_FLUSH, 0, null, 0)).isEqualTo(BlkDevice.S_OK);
            byte[] onDisk = Files.readAllBytes(img);
            assertThat(Arrays.copyOfRange(onDisk, 4096, 8192)).isEqualTo(data);
            assertThat(onDisk[4095]).isZero();
            assertThat(request(d, BlkDevice.T_IN, 8, null, 4096)).isEqualTo(BlkDevice.S_OK);
            assertThat(lastIn).isEqualTo(data);
            assertThat(d.needsReset()).isFalse();
        }
    }

    @Test
    void outOfRangeAndUnalignedRequestsFailWithIoErr() throws IOException {
        try (TestDriver d = new TestDriver(BlkDevice.open("vda", image(1 << 20), false)).start(64)) {
            assertThat(request(d, BlkDevice.T_IN, 2047, null, 1024)).isEqualTo(BlkDevice.S_IOERR);
            assertThat(request(d, BlkDevice.T_IN, -1L, null, 512)).isEqualTo(BlkDevice.S_IOERR);
            assertThat(request(d, BlkDevice.T_OUT, 0, new byte[100], 0)).isEqualTo(BlkDevice.S_IOERR);
            assertThat(request(d, 99, 0, null, 0)).isEqualTo(BlkDevice.S_UNSUPP);
            assertThat(d.needsReset()).isFalse();
        }
    }

    @Test
    void readOnlyDiskRefusesWritesAndAdvertisesRo() throws IOException {
        Path img = image(1 << 20);
        try (TestDriver d = new TestDriver(BlkDevice.open("vdb", img, true)).start(64)) {
            assertThat(d.mmio.device().deviceFeatures() & (1L << BlkDevice.F_RO)).isNotZero();
            byte[] data = new byte[512];
            Arrays.fill(data, (byte) 1);
            assertThat(request(d, BlkDevice.T_OUT, 0, data, 0)).isEqualTo(BlkDevice.S_IOERR);
            byte[] seg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putInt(8).putInt(0).array();
            assertThat(request(d, BlkDevice.T_DISCARD, 0, seg, 0)).isEqualTo(BlkDevice.S_IOERR);
        }
        assertThat(Files.readAllBytes(img)).containsOnly(0);
    }

    @Test
    void discardPunchesHolesAndWriteZeroesZeroes() throws IOException {
        Path img = image(4 << 20);
        byte[] ones = new byte[1 << 20];
        Arrays.fill(ones, (byte) 0xff);
        try (TestDriver d = new TestDriver(BlkDevice.open("vda", img, false)).start(64)) {
            assertThat(request(d, BlkDevice.T_OUT, 0, ones, 0)).isEqualTo(BlkDevice.S_OK);
            byte[] seg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putInt(1024).putInt(0)
                    .array();
            assertThat(request(d, BlkDevice.T_DISCARD, 0, seg, 0)).isEqualTo(BlkDevice.S_OK);
            assertThat(request(d, BlkDevice.T_IN, 0, null, 4096)).isEqualTo(BlkDevice.S_OK);
            assertThat(lastIn).containsOnly(0);
            assertThat(request(d, BlkDevice.T_OUT, 0, ones, 0)).isEqualTo(BlkDevice.S_OK);
            byte[] wz = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8).putInt(8).putInt(1).array();
            assertThat(request(d, BlkDevice.T_WRITE_ZEROES, 0, wz, 0)).isEqualTo(BlkDevice.S_OK);
            assertThat(request(d, BlkDevice.T_FLUSH, 0, null, 0)).isEqualTo(BlkDevice.S_OK);
        }
        byte[] onDisk = Files.readAllBytes(img);
        assertThat(onDisk[4095]).isEqualTo((byte) 0xff);
        assertThat(Arrays.copyOfRange(onDisk, 4096, 8192)).containsOnly(0);
        assertThat(onDisk[8192]).isEqualTo((byte) 0xff);
    }

    @Test
    void getIdReturnsTheSerial() throws IOException {
        try (TestDriver d = new TestDriver(BlkDevice.open("vdc", image(1 << 20), false)).start(64)) {
            assertThat(request(d, BlkDevice.T_GET_ID, 0, null, 20)).isEqualTo(BlkDevice.S_OK);
            assertThat(new String(lastIn, 0, 9, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("domus-vdc");
        }
    }

    @Test
    void secondWriterOfAnImageIsRefused() throws IOException {
        Path img = image(1 << 20);
        BlkDevice first = BlkDevice.open("vda", img, false);
        try {
            assertThatThrownBy(() -> BlkDevice.open("vda", img, false)).isInstanceOf(IOException.class)
                    .hasMessageContaining("in use");
        } finally {
            first.close();
        }
        BlkDevice.open("vda", img, false).close();
    }
}
