// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The directory where domain runners publish themselves: {@code ${DOMUS_RUN_DIR:-/run/domus}/xl/}. Per domain it
 * holds {@code <name>.sock} (control), {@code <name>.console}, {@code <name>.pid}, {@code <name>.log} and
 * {@code <name>.lock}. The lock file carries an OS file lock held by the runner for its whole life, so "is a runner
 * alive?" never depends on pid reuse or leftover socket files.
 */
public final class RunDir {
    /** Environment variable naming the base run directory. */
    public static final String ENV = "DOMUS_RUN_DIR";
    /** Base run directory when {@link #ENV} is unset. */
    public static final String DEFAULT_BASE = "/run/domus";
    /** Longest path a Unix domain socket address may have on Linux (sun_path is 108 bytes with the NUL). */
    static final int MAX_SOCKET_PATH = 107;

    private static final Pattern NAME = Pattern.compile(DomainConfig.NAME_PATTERN);
    /** Name locks held by this JVM: a second FileChannel on the same file would throw or, worse, drop our lock. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir;

    private RunDir(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    /** The run directory for this process's environment. */
    public static RunDir fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    public static RunDir fromEnvironment(Map<String, String> env) {
        String base = env.getOrDefault(ENV, "");
        return new RunDir(Path.of(base.isEmpty() ? DEFAULT_BASE : base).resolve("xl"));
    }

    /** A run directory at exactly {@code dir} (the {@code xl} level). */
    public static RunDir at(Path dir) {
        return new RunDir(dir);
    }

    public Path path() {
        return dir;
    }

    public Path controlSocket(String name) {
        return file(name, ".sock");
    }

    public Path consoleSocket(String name) {
        return file(name, ".console");
    }

    public Path pidFile(String name) {
        return file(name, ".pid");
    }

    public Path logFile(String name) {
        return file(name, ".log");
    }

    Path lockFile(String name) {
        return file(name, ".lock");
    }

    /** Creates the directory (and parents) with mode 0700 for the leaf. */
    public void create() {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new DomainException(DomainException.IO, null, "cannot create run directory " + dir + ": "
                    + DomainConfig.describe(e), e);
        }
    }

    /** Names of domains that have a control socket here, sorted; some may be stale (see {@link #cleanIfStale}). */
    public List<String> domainNames() {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return names;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.sock")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                String name = f.substring(0, f.length() - ".sock".length());
                if (NAME.matcher(name).matches()) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            throw new DomainException(DomainException.IO, null, "cannot list " + dir + ": " + DomainConfig.describe(e), e);
        }
        names.sort(null);
        return names;
    }

    /** The pid a runner recorded, if the file exists and holds a number. */
    public Optional<Long> recordedPid(String name) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile(name)).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** True while some process holds the domain's name lock, i.e. its runner is alive. */
    public boolean isHeld(String name) {
        Optional<NameLock> l = tryLock(name);
        l.ifPresent(NameLock::close);
        return l.isEmpty();
    }

    /**
     * Waits until no runner holds {@code name}'s lock (a runner removes its socket and pid files just before it
     * lets go), polling every 10 ms; false if it is still held after {@code timeout}.
     */
    public boolean awaitReleased(String name, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isHeld(name)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /**
     * Removes the socket and pid files of {@code name} when no runner holds its lock.
     *
     * @return true if the domain is not running (files were stale or absent)
     */
    public boolean cleanIfStale(String name) {
        Optional<NameLock> l = tryLock(name);
        if (l.isEmpty()) {
            return false;
        }
        try {
            removeRuntimeFiles(name);
        } finally {
            l.get().close();
        }
        return true;
    }

    /** Takes the name lock; empty when another runner (this or another process) holds it. */
    Optional<NameLock> tryLock(String name) {
        Path lockFile = lockFile(name);
        if (!HELD.add(lockFile)) {
            return Optional.empty();
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock == null) {
                ch.close();
                HELD.remove(lockFile);
                return Optional.empty();
            }
            return Optional.of(new NameLock(lockFile, ch));
        } catch (IOException | OverlappingFileLockException e) {
            closeQuietly(ch);
            HELD.remove(lockFile);
            if (e instanceof OverlappingFileLockException) {
                return Optional.empty();
            }
            throw new DomainException(DomainException.IO, name, "cannot lock " + lockFile + ": "
                    + DomainConfig.describe((IOException) e), e);
        }
    }

    void removeRuntimeFiles(String name) {
        for (Path p : List.of(controlSocket(name), consoleSocket(name), pidFile(name))) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                Log.warn("stale_file_not_removed", "path", p, "error", e.getMessage());
            }
        }
    }

    /** Fails with a clear message when a socket path would not fit into a Unix socket address. */
    void checkSocketPaths(String name) {
        for (Path p : List.of(controlSocket(name), consoleSocket(name))) {
            int len = p.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (len > MAX_SOCKET_PATH) {
                throw new DomainException(DomainException.CONFIG, name, "socket path " + p + " is " + len
                        + " bytes; Unix sockets allow " + MAX_SOCKET_PATH + " (use a shorter " + ENV
                        + " or domain name)");
            }
        }
    }

    private Path file(String name, String suffix) {
        if (!NAME.matcher(name).matches()) {
            throw new DomainException(DomainException.NOT_FOUND, name, "invalid domain name '" + name + "'");
        }
        return dir.resolve(name + suffix);
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /** An exclusive claim on a domain name; released by {@link #close()} or by process death. */
    static final class NameLock implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private boolean closed;

        private NameLock(Path file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            closeQuietly(channel);
            HELD.remove(file);
        }
    }

    @Override
    public String toString() {
        return dir.toString();
    }

    /** Binds a listening Unix domain socket at {@code path} (the file must not exist). */
    static java.nio.channels.ServerSocketChannel bindListener(Path path) throws IOException {
        var ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        try {
            ch.bind(java.net.UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return ch;
    }

    /** Closes a listening socket and removes its file; failures are logged, never thrown (used on shutdown). */
    static void closeListener(java.nio.channels.ServerSocketChannel server, Path path, String event) {
        try {
            server.close();
        } catch (java.io.IOException ignored) {
            // best effort
        }
        try {
            java.nio.file.Files.deleteIfExists(path);
        } catch (java.io.IOException e) {
            Log.warn(event, "path", path, "error", e.getMessage());
        }
    }
}
