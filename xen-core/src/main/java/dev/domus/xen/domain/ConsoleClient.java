// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An attachment to a domain's console socket: {@link #read} yields the replayed recent output, then live output,
 * and -1 when the domain ends; {@link #write} types into the guest.
 */
public final class ConsoleClient implements AutoCloseable {
    private final SocketChannel ch;

    private ConsoleClient(SocketChannel ch) {
        this.ch = ch;
    }

    /** Attaches to the console of {@code name}; {@code not_found} when no such domain is running. */
    public static ConsoleClient attach(RunDir runDir, String name) {
        Path sock = runDir.consoleSocket(name);
        try {
            return new ConsoleClient(DomainClient.open(sock));
        } catch (IOException e) {
            if (Files.exists(sock) && !runDir.cleanIfStale(name)) {
                throw new DomainException(DomainException.IO, name, "cannot attach to the console of '" + name
                        + "': " + DomainConfig.describe(e), e);
            }
            throw new DomainException(DomainException.NOT_FOUND, name, "domain '" + name + "' does not exist", e);
        }
    }

    /** Reads output bytes; -1 when the console is closed. */
    public int read(byte[] buf, int off, int len) throws IOException {
        return ch.read(ByteBuffer.wrap(buf, off, len));
    }

    /** Sends input bytes to the guest. */
    public void write(byte[] buf, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, off, len);
        synchronized (this) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    /** Signals that no more input will come while still receiving output. */
    public void finishInput() throws IOException {
        ch.shutdownOutput();
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
