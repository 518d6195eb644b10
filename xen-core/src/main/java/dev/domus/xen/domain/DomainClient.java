// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A connection to a domain runner's control socket, used by {@code xl} and the host agent. Calls are synchronous
 * and thread-safe; a reader thread routes replies by id and queues events (after {@link #subscribe()}).
 */
public final class DomainClient implements AutoCloseable {
    /** How long a call waits for its reply. */
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(30);

    private static final Object CLOSED = new Object();

    private final String name;
    private final SocketChannel ch;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final CountDownLatch disconnected = new CountDownLatch(1);
    private final Object writeLock = new Object();
    private volatile Duration callTimeout = DEFAULT_CALL_TIMEOUT;

    private DomainClient(String name, SocketChannel ch) {
        this.name = name;
        this.ch = ch;
        Thread.ofPlatform().daemon().name("domain-client-" + name).start(this::readLoop);
    }

    /**
     * Connects to the runner of {@code name}. A leftover socket of a dead runner is cleaned up.
     *
     * @throws DomainException {@code not_found} when no such domain is running
     */
    public static DomainClient connect(RunDir runDir, String name) {
        Path sock = runDir.controlSocket(name);
        try {
            return new DomainClient(name, open(sock));
        } catch (IOException e) {
            if (Files.exists(sock) && !runDir.cleanIfStale(name)) {
                throw new DomainException(DomainException.IO, name, "cannot connect to domain '" + name + "' at "
                        + sock + ": " + DomainConfig.describe(e), e);
            }
            throw new DomainException(DomainException.NOT_FOUND, name, "domain '" + name + "' does not exist", e);
        }
    }

    /** Connects to a control socket by path. */
    public static DomainClient connect(Path socket) {
        try {
            return new DomainClient(socket.getFileName().toString(), open(socket));
        } catch (IOException e) {
            throw new DomainException(DomainException.NOT_FOUND, null, "cannot connect to " + socket + ": "
                    + DomainConfig.describe(e), e);
        }
    }

    static SocketChannel open(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    /** Changes how long calls wait for their reply. */
    public void setCallTimeout(Duration timeout) {
        this.callTimeout = timeout;
    }

    public DomainInfo info() {
        return Protocol.info(call("info", Map.of()));
    }

    public void pause() {
        call("pause", Map.of());
    }

    public void unpause() {
        call("unpause", Map.of());
    }

    /** Asks the guest to power off; after {@code timeout} (if present) the runner destroys the domain. */
    public void shutdown(Optional<Duration> timeout) {
        call("shutdown", timeout.map(t -> Map.<String, Object>of("timeout_s", Math.max(1, t.toSeconds())))
                .orElse(Map.of()));
    }

    public void reboot() {
        call("reboot", Map.of());
    }

    /** Sends one line (printable ASCII, at most 512 characters) to the guest's control channel. */
    public void controlLine(String line) {
        call("control-line", Map.of("line", line));
    }

    /**
     * Saves the domain to {@code file} (absolute); without {@code checkpoint} the domain then ends.
     *
     * @return the reply: {@code bytes}, {@code paused_ms}
     */
    public Map<String, Object> save(java.nio.file.Path file, boolean checkpoint) {
        return call("save", Map.of("file", file.toAbsolutePath().normalize().toString(), "checkpoint", checkpoint));
    }

    /** Starts a live migration to {@code target} (host:port); follow it with {@link #subscribe()} events. */
    public void migrate(String target, long downtimeMillis, int maxRounds) {
        call("migrate", Map.of("target", target, "downtime_ms", downtimeMillis, "max_rounds", (long) maxRounds));
    }

    /**
     * Like {@link #migrate(String, long, int)}, mirroring the named disks ({@code vda}, ..., or {@code all}) to the
     * target; disks not named are shared and not copied.
     */
    public void migrate(String target, long downtimeMillis, int maxRounds, java.util.List<String> mirrorDisks) {
        call("migrate", Map.of("target", target, "downtime_ms", downtimeMillis, "max_rounds", (long) maxRounds,
                "mirror_disks", new java.util.ArrayList<Object>(mirrorDisks)));
    }

    public void cancelMigration() {
        call("migrate-cancel", Map.of());
    }

    /** Dirty-page logging: {@code start}, {@code stop} or {@code fetch} (count and clear dirty pages). */
    public Map<String, Object> dirtyLog(String action) {
        return call("dirty-log", Map.of("action", action));
    }

    public void destroy() {
        call("destroy", Map.of());
    }

    /** Starts event delivery on this connection; returns the state at that moment. */
    public DomainState subscribe() {
        return Protocol.state(Protocol.str(call("subscribe", Map.of()), "state"));
    }

    /**
     * The next event, waiting up to {@code timeout}. Empty on timeout or when the connection is closed (check
     * {@link #isConnected()}).
     */
    public Optional<DomainEvent> nextEvent(Duration timeout) throws InterruptedException {
        Object e = events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (e == null) {
            return Optional.empty();
        }
        if (e == CLOSED) {
            events.offer(CLOSED); // keep waking later callers
            return Optional.empty();
        }
        return Optional.of((DomainEvent) e);
    }

    public boolean isConnected() {
        return disconnected.getCount() > 0;
    }

    /** Waits until the runner closes the connection (it does so when the domain ends). */
    public boolean awaitDisconnect(Duration timeout) throws InterruptedException {
        return disconnected.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Sends one command and returns its {@code result} object; an error reply becomes a DomainException. */
    Map<String, Object> call(String cmd, Map<String, Object> args) {
        long id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> f = new CompletableFuture<>();
        pending.put(id, f);
        Map<String, Object> req = Json.obj("id", id, "cmd", cmd);
        req.putAll(args);
        try {
            send(Json.write(req));
            if (!isConnected()) {
                f.completeExceptionally(lost());
            }
            Map<String, Object> reply = f.get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (Boolean.TRUE.equals(reply.get("ok"))) {
                return reply.get("result") instanceof Map<?, ?> m ? cast(m) : Json.obj();
            }
            Map<String, Object> err = reply.get("error") instanceof Map<?, ?> m ? cast(m) : Json.obj();
            String code = err.get("code") instanceof String s ? s : DomainException.INTERNAL;
            String message = err.get("message") instanceof String s ? s : "error reply without message";
            throw new DomainException(code, name, message);
        } catch (IOException e) {
            throw lost();
        } catch (TimeoutException e) {
            throw new DomainException(DomainException.IO, name, "domain '" + name + "' did not answer " + cmd
                    + " within " + callTimeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof DomainException de ? de : lost();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DomainException(DomainException.IO, name, "interrupted while waiting for " + cmd);
        } finally {
            pending.remove(id);
        }
    }

    /** Writes a raw line (tests use this to send malformed requests). */
    void send(String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (writeLock) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    /** Unmatched replies (no id, e.g. to a malformed line) are kept here for tests. */
    final LinkedBlockingQueue<Map<String, Object>> unmatched = new LinkedBlockingQueue<>();

    private void readLoop() {
        LineReader in = new LineReader(ch, Protocol.MAX_REPLY_LINE);
        try {
            String line;
            while ((line = in.readLine()) != null) {
                Map<String, Object> m;
                try {
                    m = Json.parseObject(line);
                } catch (Json.ParseException e) {
                    continue; // a runner never sends this; skip rather than drop the connection
                }
                if (m.containsKey("event")) {
                    try {
                        events.offer(Protocol.event(m));
                    } catch (DomainException e) {
                        // unknown event from a newer runner: ignore
                    }
                } else if (m.get("id") instanceof Long id && pending.get(id) != null) {
                    pending.get(id).complete(m);
                } else {
                    unmatched.offer(m);
                }
            }
        } catch (IOException e) {
            // connection closed
        } finally {
            disconnected.countDown();
            events.offer(CLOSED);
            for (CompletableFuture<Map<String, Object>> f : pending.values()) {
                f.completeExceptionally(lost());
            }
            try {
                ch.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    private DomainException lost() {
        return new DomainException(DomainException.IO, name, "lost connection to domain '" + name + "'");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
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
