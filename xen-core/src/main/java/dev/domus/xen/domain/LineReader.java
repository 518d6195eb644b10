// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

/** Reads {@code \n}-terminated UTF-8 lines from a blocking channel with a bound on the line length. */
final class LineReader {
    /** A line exceeded the limit; it has been consumed, so the next read starts after it. */
    static final class LineTooLongException extends IOException {
        LineTooLongException(int limit) {
            super("line longer than " + limit + " bytes");
        }
    }

    private final ReadableByteChannel ch;
    private final int maxLine;
    private final ByteBuffer buf = ByteBuffer.allocate(8192);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private boolean discarding;

    LineReader(ReadableByteChannel ch, int maxLine) {
        this.ch = ch;
        this.maxLine = maxLine;
        buf.flip();
    }

    /** The next line without its terminator ({@code \r\n} is accepted), or null at end of stream. */
    String readLine() throws IOException {
        while (true) {
            while (buf.hasRemaining()) {
                byte b = buf.get();
                if (b == '\n') {
                    if (discarding) {
                        discarding = false;
                        line.reset();
                        throw new LineTooLongException(maxLine);
                    }
                    byte[] bytes = line.toByteArray();
                    line.reset();
                    int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, len, StandardCharsets.UTF_8);
                }
                if (discarding) {
                    continue;
                }
                if (line.size() >= maxLine) {
                    discarding = true;
                    line.reset();
                    continue;
                }
                line.write(b);
            }
            buf.clear();
            int n = ch.read(buf);
            buf.flip();
            if (n < 0) {
                // A final unterminated line is dropped: every message of the protocol ends with a newline.
                return null;
            }
        }
    }
}
