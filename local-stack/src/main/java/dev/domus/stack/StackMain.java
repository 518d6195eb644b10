// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The local stack for scripts ({@code deploy/stack}):
 * {@code start --state-dir D [--pg-port N] [--kafka-port N] [--keycloak-port N] [--realm FILE]
 * [--databases a,b] [--timeout SECONDS]} starts PostgreSQL, Kafka and Keycloak with their data under {@code D},
 * writes {@code D/stack.env} and pid files, prints one line per ready service, then stays in the foreground until
 * SIGTERM/SIGINT and stops everything. Exit codes: 0 stopped on a signal, 1 a service failed, 2 bad usage or a
 * port in use.
 */
public final class StackMain {

    private static final String USAGE = """
            usage: StackMain start --state-dir DIR [--pg-port N] [--kafka-port N] [--keycloak-port N]
                                   [--realm FILE] [--databases NAME,NAME] [--timeout SECONDS]
              ports default to free ports on 127.0.0.1; the chosen ones are in DIR/stack.env
              --realm      Keycloak realm file (default: the Domus realm in this jar, deploy/keycloak/domus-realm.json)
              --databases  PostgreSQL databases to create (default: control_plane,billing)
            or:    StackMain platform ...   the whole platform (see StackMain platform --help)""";

    /** Parsed command line. */
    record Args(Path stateDir, int pgPort, int kafkaPort, int keycloakPort, Path realm, List<String> databases,
                Duration timeout) {
    }

    private final PrintStream out;
    private final List<AutoCloseable> started = new ArrayList<>();
    private final Object stopLock = new Object();
    private boolean stopped;
    private final CountDownLatch signalled = new CountDownLatch(1);

    StackMain(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] argv) {
        if (argv.length > 0 && argv[0].equals("platform")) {
            System.exit(PlatformMain.main(java.util.Arrays.copyOfRange(argv, 1, argv.length), System.out));
            return;
        }
        Args args;
        try {
            args = parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("domus-stack: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        System.exit(new StackMain(System.out).run(args));
    }

    static Args parse(String[] argv) {
        if (argv.length == 0 || !argv[0].equals("start")) {
            throw new IllegalArgumentException(argv.length == 0 ? "missing command" : "unknown command: " + argv[0]);
        }
        Path state = null;
        Path realm = null;
        int pg = 0;
        int kafka = 0;
        int keycloak = 0;
        List<String> dbs = List.of("control_plane", "billing");
        Duration timeout = StackOptions.DEFAULT_START_TIMEOUT.multipliedBy(3);
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException(a.startsWith("--") ? a + " needs a value" : "unexpected: " + a);
            }
            String v = argv[++i];
            switch (a) {
                case "--state-dir" -> state = Path.of(v);
                case "--pg-port" -> pg = port(a, v);
                case "--kafka-port" -> kafka = port(a, v);
                case "--keycloak-port" -> keycloak = port(a, v);
                case "--realm" -> realm = Path.of(v);
                case "--databases" -> dbs = List.of(v.split(","));
                case "--timeout" -> timeout = Duration.ofSeconds(positive(a, v));
                default -> throw new IllegalArgumentException("unknown option: " + a);
            }
        }
        if (state == null) {
            throw new IllegalArgumentException("--state-dir is required");
        }
        return new Args(state.toAbsolutePath().normalize(), pg, kafka, keycloak, realm, dbs, timeout);
    }

    private static int port(String opt, String v) {
        int p = positive(opt, v);
        if (p > 65535) {
            throw new IllegalArgumentException(opt + " must be 1..65535, got " + v);
        }
        return p;
    }

    private static int positive(String opt, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(opt + " must be a positive number, got " + v);
        }
    }

    int run(Args a) {
        Path d = a.stateDir();
        Thread hook = new Thread(() -> {
            signalled.countDown();
            stopAll(d);
        }, "domus-stack-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Files.createDirectories(d);
            Files.deleteIfExists(d.resolve("stack.env"));
            writePid(d.resolve("stack.pid"), ProcessHandle.current().pid());
            Path realm = a.realm() != null ? a.realm().toAbsolutePath() : bundledRealm(d);

            long t = System.nanoTime();
            PostgresService pg = track(PostgresService.start(new StackOptions(d.resolve("postgres"), a.pgPort(),
                    a.timeout())));
            for (String db : a.databases()) {
                pg.createDatabase(db.strip());
            }
            pg.pid().ifPresent(pid -> writePid(d.resolve("postgres.pid"), pid));
            ready("postgres", Ports.HOST + ":" + pg.port(), t);

            t = System.nanoTime();
            KafkaService kafka = track(KafkaService.start(new StackOptions(d.resolve("kafka"), a.kafkaPort(),
                    a.timeout())));
            writePid(d.resolve("kafka.pid"), kafka.pid());
            ready("kafka", kafka.bootstrapServers(), t);

            t = System.nanoTime();
            KeycloakService kc = track(KeycloakService.start(new StackOptions(d.resolve("keycloak"),
                    a.keycloakPort(), a.timeout()), realm));
            writePid(d.resolve("keycloak.pid"), kc.pid());
            ready("keycloak", Ports.HOST + ":" + kc.port(), t);

            writeEnv(d, pg, a.databases(), kafka, kc);
            out.println("stack ready: " + d.resolve("stack.env") + " (stop with SIGTERM: kill "
                    + ProcessHandle.current().pid() + ")");
            out.flush();
            int rc = watch(d, pg, kafka, kc);
            stopAll(d);
            return rc;
        } catch (StackException e) {
            System.err.println("domus-stack: " + e.oneLine());
            if (!e.detail().isEmpty()) {
                System.err.print(e.detail());
            }
            stopAll(d);
            return e.code() == StackException.Code.PORT_IN_USE ? 2 : 1;
        } catch (IOException | RuntimeException e) {
            System.err.println("domus-stack: " + e);
            stopAll(d);
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Shutting down because of a signal: the hook is running the stop.
            }
        }
    }

    /** Blocks until a signal (0) or until a service dies on its own (1, after stopping the others). */
    private int watch(Path d, PostgresService pg, KafkaService kafka, KeycloakService kc)
            throws IOException {
        try {
            while (!signalled.await(2, java.util.concurrent.TimeUnit.SECONDS)) {
                String dead = !kafka.isAlive() ? "kafka" : !kc.isAlive() ? "keycloak"
                        : pg.pid().isEmpty() ? "postgres" : null;
                if (dead != null) {
                    System.err.println("domus-stack: " + dead + " exited on its own; stopping the stack");
                    stopAll(d);
                    return 1;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** What SIGTERM does, for in-process callers (tests): {@link #run} stops everything and returns 0. */
    void requestStop() {
        signalled.countDown();
    }

    private <T extends AutoCloseable> T track(T service) {
        synchronized (stopLock) {
            started.add(service);
        }
        return service;
    }

    /** Stops in reverse start order; removes stack.env and pid files. Safe to call twice. */
    private void stopAll(Path d) {
        synchronized (stopLock) {
            if (stopped) {
                return;
            }
            stopped = true;
            for (int i = started.size() - 1; i >= 0; i--) {
                AutoCloseable s = started.get(i);
                try {
                    s.close();
                    out.println(s.toString().split(" ")[0] + " stopped");
                } catch (Exception e) {
                    System.err.println("domus-stack: stopping " + s + ": " + e.getMessage());
                }
            }
            for (String f : List.of("stack.env", "postgres.pid", "kafka.pid", "keycloak.pid", "stack.pid")) {
                try {
                    Files.deleteIfExists(d.resolve(f));
                } catch (IOException e) {
                    // Left behind: deploy/stack checks that the pids are alive before trusting them.
                }
            }
            out.flush();
        }
    }

    private void ready(String service, String where, long t0) {
        double s = (System.nanoTime() - t0) / 1e9;
        out.println(String.format(Locale.ROOT, "%s ready on %s (%.1f s)", service, where, s));
        out.flush();
    }

    private static void writePid(Path file, long pid) {
        try {
            Files.writeString(file, pid + "\n");
        } catch (IOException e) {
            throw new StackException("stack", StackException.Code.START_FAILED, "cannot write " + file, "", e);
        }
    }

    private static Path bundledRealm(Path d) throws IOException {
        Path target = d.resolve("domus-realm.json");
        try (InputStream in = StackMain.class.getResourceAsStream("domus-realm.json")) {
            if (in == null) {
                throw new IllegalStateException("domus-realm.json is missing from the local-stack jar");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    /** {@code stack.env}: shell-sourceable KEY=value lines, written atomically once everything is ready. */
    static void writeEnv(Path d, PostgresService pg, List<String> dbs, KafkaService kafka, KeycloakService kc)
            throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DOMUS_PG_HOST", Ports.HOST);
        env.put("DOMUS_PG_PORT", Integer.toString(pg.port()));
        env.put("DOMUS_PG_USER", pg.username());
        env.put("DOMUS_PG_PASSWORD", pg.password());
        env.put("DOMUS_PG_JDBC_URL", pg.jdbcUrl());
        for (String db : dbs) {
            env.put("DOMUS_PG_JDBC_URL_" + db.strip().toUpperCase(Locale.ROOT), pg.jdbcUrl(db.strip()));
        }
        env.put("DOMUS_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        KeycloakRealm realm = kc.realm();
        env.put("DOMUS_KEYCLOAK_URL", kc.baseUrl());
        env.put("DOMUS_OIDC_REALM", realm.name());
        env.put("DOMUS_OIDC_ISSUER", kc.issuer(realm.name()));
        env.put("DOMUS_OIDC_TOKEN_URL", kc.tokenUrl(realm.name()));
        realm.clientSecrets().forEach((id, secret) -> env.put(
                "DOMUS_OIDC_CLIENT_" + id.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_") + "_SECRET", secret));
        env.put("DOMUS_STACK_PID", Long.toString(ProcessHandle.current().pid()));
        StringBuilder sb = new StringBuilder("# Written by dev.domus.stack.StackMain; removed when the stack stops.\n");
        env.forEach((k, v) -> sb.append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
        Path tmp = d.resolve("stack.env.tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, d.resolve("stack.env"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
