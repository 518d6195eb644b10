// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The {@code <name>.console} socket: raw bytes both ways. Every attached client gets the recent output from the
 * ring buffer first, then live output; input from any client goes to the guest console. Output never blocks the
 * machine thread that produces it.
 */
final class ConsoleServer implements AutoCloseable {
    /** How far a console client may fall behind before it is dropped. */
    static final int MAX_PENDING = 1024 * 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Consumer<byte[]> input;
    private final ConsoleRing ring = new ConsoleRing(ConsoleRing.DEFAULT_CAPACITY);
    private final Set<Outbox> clients = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();
    private volatile boolean closed;
    private Thread acceptor;

    private ConsoleServer(Path path, ServerSocketChannel server, Consumer<byte[]> input) {
        this.path = path;
        this.server = server;
        this.input = input;
    }

    /** Binds the socket; the file must not exist. */
    static ConsoleServer open(Path path, Consumer<byte[]> input) throws IOException {
        ServerSocketChannel ch = RunDir.bindListener(path);
        return new ConsoleServer(path, ch, input);
    }

    void start() {
        acceptor = Thread.ofPlatform().daemon().name("console-accept").start(this::acceptLoop);
    }

    /** Called by machine threads with guest console output. */
    void output(byte[] data, int off, int len) {
        if (len <= 0) {
            return;
        }
        byte[] copy = Arrays.copyOfRange(data, off, off + len);
        synchronized (lock) {
            ring.write(copy, 0, len);
            for (Outbox c : clients) {
                if (!c.offer(copy)) {
                    clients.remove(c);
                }
            }
        }
    }

    int clientCount() {
        return clients.size();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    Log.warn("console_accept_failed", "error", e.getMessage());
                }
                return;
            }
            Outbox out = new Outbox(ch, MAX_PENDING, "console");
            synchronized (lock) {
                // Registering and taking the snapshot under one lock: the client sees every byte exactly once.
                byte[] replay = ring.snapshot();
                if (replay.length > 0) {
                    out.offer(replay);
                }
                if (closed) {
                    out.closeAfterFlush();
                    return;
                }
                clients.add(out);
            }
            Thread.ofVirtual().name("console-reader").start(() -> readLoop(ch, out));
        }
    }

    private void readLoop(SocketChannel ch, Outbox out) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
            while (true) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    // The client closed its sending side (e.g. `xl console < /dev/null`): keep sending output.
                    return;
                }
                if (n > 0) {
                    input.accept(Arrays.copyOf(buf.array(), n));
                }
            }
        } catch (IOException e) {
            // client went away or the server is closing
            clients.remove(out);
            out.close();
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        RunDir.closeListener(server, path, "console_socket_not_removed");
        for (Outbox c : clients) {
            c.closeAfterFlush();
        }
        for (Outbox c : clients) {
            try {
                c.awaitClosed(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        clients.clear();
        if (acceptor != null) {
            acceptor.interrupt();
        }
    }
}
