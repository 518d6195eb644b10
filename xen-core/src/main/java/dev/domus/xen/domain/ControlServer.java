// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@code <name>.sock} control socket: JSON lines, one request per line, one reply per request, plus events
 * for connections that sent {@code subscribe}. A malformed line gets an error reply; it never ends the runner.
 */
final class ControlServer implements AutoCloseable {
    /** How far a control client may fall behind (events it does not read) before it is dropped. */
    static final int MAX_PENDING = 256 * 1024;
    /** Upper bound for {@code shutdown}'s {@code timeout_s}. */
    static final long MAX_SHUTDOWN_TIMEOUT_S = 24 * 3600;

    private final Path path;
    private final ServerSocketChannel server;
    private final Domain domain;
    private final Set<Conn> conns = ConcurrentHashMap.newKeySet();
    private final AtomicLong connIds = new AtomicLong();
    private volatile boolean closed;
    private Thread acceptor;

    private final class Conn {
        final long id = connIds.incrementAndGet();
        final SocketChannel ch;
        final Outbox out;
        /** Held while a request is executed, so close() lets a {@code destroy} reply out before the socket goes. */
        final ReentrantLock busy = new ReentrantLock();
        volatile boolean subscribed;

        Conn(SocketChannel ch) {
            this.ch = ch;
            this.out = new Outbox(ch, MAX_PENDING, "control-" + id);
        }

        void send(Map<String, Object> message) {
            out.offer((Json.write(message) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private ControlServer(Path path, ServerSocketChannel server, Domain domain) {
        this.path = path;
        this.server = server;
        this.domain = domain;
        domain.addListener(this::publish);
    }

    /** Binds the socket; the file must not exist. */
    static ControlServer open(Path path, Domain domain) throws IOException {
        ServerSocketChannel ch = RunDir.bindListener(path);
        return new ControlServer(path, ch, domain);
    }

    void start() {
        acceptor = Thread.ofPlatform().daemon().name("control-accept").start(this::acceptLoop);
    }

    private void publish(DomainEvent e) {
        Map<String, Object> m = Protocol.event(e);
        for (Conn c : conns) {
            if (c.subscribed) {
                c.send(m);
            }
        }
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
                    Log.warn("control_accept_failed", "error", e.getMessage());
                }
                return;
            }
            Conn c = new Conn(ch);
            conns.add(c);
            if (closed) {
                conns.remove(c);
                c.out.close();
                return;
            }
            Thread.ofVirtual().name("control-" + c.id).start(() -> serve(c));
        }
    }

    private void serve(Conn c) {
        LineReader in = new LineReader(c.ch, Protocol.MAX_REQUEST_LINE);
        try {
            while (true) {
                String line;
                try {
                    line = in.readLine();
                } catch (LineReader.LineTooLongException e) {
                    c.send(errorReply(null, DomainException.BAD_REQUEST, "request " + e.getMessage()));
                    continue;
                }
                if (line == null) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                boolean more;
                c.busy.lock();
                try {
                    more = handle(c, line);
                } finally {
                    c.busy.unlock();
                }
                if (!more) {
                    break;
                }
            }
        } catch (IOException e) {
            // connection closed by the peer or by close()
        } finally {
            conns.remove(c);
            c.out.closeAfterFlush();
        }
    }

    /** Handles one request line; false when the connection should end ({@code quit}). */
    private boolean handle(Conn c, String line) {
        Map<String, Object> req;
        try {
            req = Json.parseObject(line);
        } catch (Json.ParseException e) {
            c.send(errorReply(null, DomainException.BAD_REQUEST, "malformed JSON: " + e.getMessage()));
            return true;
        }
        Object id = req.get("id");
        if (id != null && !(id instanceof Long) && !(id instanceof String)) {
            c.send(errorReply(null, DomainException.BAD_REQUEST, "id must be an integer or a string"));
            return true;
        }
        if (!(req.get("cmd") instanceof String cmd)) {
            c.send(errorReply(id, DomainException.BAD_REQUEST, "missing \"cmd\" (a string)"));
            return true;
        }
        try {
            Object result = execute(c, cmd, req);
            Map<String, Object> reply = Json.obj();
            if (id != null) {
                reply.put("id", id);
            }
            reply.put("ok", true);
            reply.put("result", result);
            c.send(reply);
            return !cmd.equals("quit");
        } catch (DomainException e) {
            c.send(errorReply(id, e.code(), e.getMessage()));
        } catch (RuntimeException e) {
            Log.error("command_failed", "domain", domain.name(), "cmd", cmd, "error", e.toString());
            c.send(errorReply(id, DomainException.INTERNAL, cmd + " failed: " + e));
        }
        return true;
    }

    private Object execute(Conn c, String cmd, Map<String, Object> req) {
        switch (cmd) {
            case "info" -> {
                allowArgs(req);
                return Protocol.info(domain.info());
            }
            case "pause" -> {
                allowArgs(req);
                domain.pause();
            }
            case "unpause" -> {
                allowArgs(req);
                domain.unpause();
            }
            case "shutdown" -> {
                allowArgs(req, "timeout_s");
                long timeout = 0;
                Object t = req.get("timeout_s");
                if (t != null) {
                    if (!(t instanceof Long l) || l < 1 || l > MAX_SHUTDOWN_TIMEOUT_S) {
                        throw new DomainException(DomainException.BAD_ARGUMENT, "timeout_s must be an integer 1.."
                                + MAX_SHUTDOWN_TIMEOUT_S + ", got " + Json.write(t));
                    }
                    timeout = l;
                }
                domain.shutdown(timeout);
            }
            case "reboot" -> {
                allowArgs(req);
                domain.reboot();
            }
            case "destroy" -> {
                allowArgs(req);
                domain.destroy();
            }
            case "control-line" -> {
                allowArgs(req, "line");
                domain.controlLine(controlLine(req.get("line")));
            }
            case "subscribe" -> {
                allowArgs(req);
                c.subscribed = true;
                return Json.obj("state", domain.state().wireName());
            }
            case "save" -> {
                allowArgs(req, "file", "checkpoint");
                if (!(req.get("file") instanceof String f) || f.isBlank() || !java.nio.file.Path.of(f).isAbsolute()) {
                    throw new DomainException(DomainException.BAD_ARGUMENT, "save needs \"file\", an absolute path");
                }
                Object cp = req.getOrDefault("checkpoint", Boolean.FALSE);
                if (!(cp instanceof Boolean checkpoint)) {
                    throw new DomainException(DomainException.BAD_ARGUMENT, "checkpoint must be true or false");
                }
                Domain.SaveResult r = domain.save(java.nio.file.Path.of(f), checkpoint);
                return Json.obj("file", f, "bytes", r.bytes(), "paused_ms", r.pausedMillis(), "paused_us",
                        r.pausedMicros(), "checkpoint", checkpoint);
            }
            case "dirty-log" -> {
                allowArgs(req, "action");
                Object a = req.get("action");
                if (!(a instanceof String action)) {
                    throw new DomainException(DomainException.BAD_ARGUMENT,
                            "dirty-log needs \"action\": start, stop or fetch");
                }
                switch (action) {
                    case "start" -> domain.setDirtyLogging(true);
                    case "stop" -> domain.setDirtyLogging(false);
                    case "fetch" -> {
                        boolean on = domain.dirtyLogging();
                        return Json.obj("enabled", on, "dirty_pages", on ? domain.fetchDirtyPages() : 0L);
                    }
                    default -> throw new DomainException(DomainException.BAD_ARGUMENT, "dirty-log action must be"
                            + " start, stop or fetch, got '" + action + "'");
                }
                return Json.obj("enabled", domain.dirtyLogging());
            }
            case "migrate" -> {
                allowArgs(req, "target", "downtime_ms", "max_rounds", "mirror_disks");
                java.util.Set<String> mirror = new java.util.TreeSet<>();
                if (req.containsKey("mirror_disks")) {
                    if (!(req.get("mirror_disks") instanceof java.util.List<?> l)) {
                        throw new DomainException(DomainException.BAD_ARGUMENT, "mirror_disks must be a list of disk"
                                + " names (vda, ...) or [\"all\"]");
                    }
                    for (Object o : l) {
                        if (!(o instanceof String n) || !(n.equals("all") || n.matches("vd[a-z]"))) {
                            throw new DomainException(DomainException.BAD_ARGUMENT, "mirror_disks entries must be "
                                    + "vda..vdz or all, got " + o);
                        }
                        mirror.add(n);
                    }
                }
                if (!(req.get("target") instanceof String t)) {
                    throw new DomainException(DomainException.BAD_ARGUMENT, "migrate needs \"target\": host:port");
                }
                var d = dev.domus.xen.migration.MigrationSource.Options.DEFAULT;
                long downtime = req.get("downtime_ms") instanceof Long l ? l : d.downtimeMillis();
                long rounds = req.get("max_rounds") instanceof Long l ? l : d.maxRounds();
                dev.domus.xen.migration.MigrationSource.Options o;
                try {
                    o = new dev.domus.xen.migration.MigrationSource.Options(downtime, (int) Math.min(rounds, 100000),
                            d.throttlePercent(), d.connectMillis(), d.ackMillis());
                } catch (IllegalArgumentException e) {
                    throw new DomainException(DomainException.BAD_ARGUMENT, e.getMessage());
                }
                domain.migrate(DomainRunner.parseHostPort(t), o, mirror);
                return Json.obj("started", true);
            }
            case "migrate-cancel" -> {
                allowArgs(req);
                domain.cancelMigration();
            }
            case "quit" -> allowArgs(req);
            default -> throw new DomainException(DomainException.UNKNOWN_COMMAND, "unknown command '" + cmd
                    + "'; known: info, pause, unpause, shutdown, reboot, destroy, save, dirty-log, migrate, migrate-cancel, subscribe, quit");
        }
        return Json.obj();
    }

    /** Longest line the guest's control reader is sent (its tty line buffer holds 4 KiB). */
    static final int MAX_CONTROL_LINE = 512;

    /** A control-channel line: 1..512 printable ASCII characters (no control characters, so exactly one line). */
    static String controlLine(Object v) {
        if (!(v instanceof String s) || s.isBlank() || s.length() > MAX_CONTROL_LINE) {
            throw new DomainException(DomainException.BAD_ARGUMENT, "control-line needs \"line\", 1.."
                    + MAX_CONTROL_LINE + " printable ASCII characters");
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x20 || ch > 0x7e) {
                throw new DomainException(DomainException.BAD_ARGUMENT, "control-line: character " + (int) ch
                        + " at " + i + " is not printable ASCII");
            }
        }
        return s;
    }

    private static void allowArgs(Map<String, Object> req, String... allowed) {
        for (String key : req.keySet()) {
            if (key.equals("id") || key.equals("cmd")) {
                continue;
            }
            boolean ok = false;
            for (String a : allowed) {
                ok |= a.equals(key);
            }
            if (!ok) {
                throw new DomainException(DomainException.BAD_ARGUMENT, "unknown argument '" + key + "' for "
                        + req.get("cmd"));
            }
        }
    }

    private static Map<String, Object> errorReply(Object id, String code, String message) {
        Map<String, Object> reply = Json.obj();
        if (id != null) {
            reply.put("id", id);
        }
        reply.put("ok", false);
        reply.put("error", Protocol.error(code, message));
        return reply;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RunDir.closeListener(server, path, "control_socket_not_removed");
        for (Conn c : conns) {
            try {
                // A command that ended the domain (destroy) is still sending its reply: let it finish.
                if (c.busy.tryLock(2, TimeUnit.SECONDS)) {
                    c.busy.unlock();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            c.out.closeAfterFlush();
        }
        for (Conn c : conns) {
            try {
                c.out.awaitClosed(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (acceptor != null) {
            acceptor.interrupt();
        }
    }
}
