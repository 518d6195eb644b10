// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A real Keycloak server (the {@code keycloak-quarkus-dist} that local-stack's build unpacked into the cache) on
 * 127.0.0.1 with an embedded H2 database ({@code dev-file}).
 *
 * <p>Importing a realm costs a JVM start and Liquibase; so the distribution is built for {@code dev-file} once,
 * the realm is imported once per realm-file hash into a cached template database, and every start copies that
 * template into {@code stateDir/data/h2} (kept across starts while the realm file is unchanged) and runs
 * {@code kc.sh start --optimized}.
 */
public final class KeycloakService implements AutoCloseable {

    static final String SERVICE = "keycloak";
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);
    /** Build and import run once per machine; they are slow on a loaded 2-core box. */
    private static final Duration PREPARE_TIMEOUT = Duration.ofMinutes(10);
    /** kc.sh build/import mutate the shared distribution: one at a time, across threads and processes. */
    private static final ReentrantLock PREPARE_LOCK = new ReentrantLock();

    private final KeycloakRealm realm;
    private final Path realmFile;
    private final String host;
    private final int port;
    /** Null on a view of the JVM-wide server owned by another class loader (then {@link #remote} is set). */
    private final ChildProcess process;
    private final javax.management.ObjectName remote;
    private final Path log;
    private final Duration startedIn;

    private KeycloakService(KeycloakRealm realm, Path realmFile, String host, int port, ChildProcess process,
                            javax.management.ObjectName remote, Path log, Duration startedIn) {
        this.realm = realm;
        this.realmFile = realmFile;
        this.host = host;
        this.port = port;
        this.process = process;
        this.remote = remote;
        this.log = log;
        this.startedIn = startedIn;
    }

    /**
     * The JVM-wide server: started with {@code options} and {@code realmJson} on first use (later callers get
     * that server whatever realm they name), shared by every class loader of this JVM (each Quarkus test profile
     * has its own); its shutdown hook stops it. {@link #close()} of a view owned by another loader does nothing.
     */
    public static KeycloakService shared(java.util.function.Supplier<StackOptions> options, Path realmJson) {
        return JvmShared.getOrStart(SERVICE, options, realmJson.toAbsolutePath().toString(),
                () -> start(options.get(), realmJson), k -> new JvmShared.Published(
                Map.<String, java.util.function.Supplier<Object>>of(
                        "port", () -> k.port,
                        "host", () -> k.host,
                        "realmFile", () -> k.realmFile.toString(),
                        "logFile", () -> k.log.toString(),
                        "pid", () -> k.pid(),
                        "alive", () -> k.isAlive(),
                        "startedInMillis", () -> k.startedIn.toMillis()),
                Map.of()), KeycloakService::attach);
    }

    private static KeycloakService attach(javax.management.ObjectName name) {
        Path realmFile = Path.of((String) JvmShared.get(name, "realmFile"));
        return new KeycloakService(KeycloakRealm.read(realmFile), realmFile, (String) JvmShared.get(name, "host"),
                (Integer) JvmShared.get(name, "port"),
                null, name, Path.of((String) JvmShared.get(name, "logFile")),
                Duration.ofMillis((Long) JvmShared.get(name, "startedInMillis")));
    }

    /** Starts Keycloak with {@code realmJson} imported and waits for the realm's OpenID configuration. */
    public static KeycloakService start(StackOptions o, Path realmJson) {
        long t0 = System.nanoTime();
        Path home = Distributions.keycloakHome();
        if (!Files.isRegularFile(home.resolve("bin/kc.sh"))) {
            throw Distributions.notInstalled(SERVICE, home);
        }
        KeycloakRealm realm = KeycloakRealm.read(realmJson);
        int port = Ports.claim(SERVICE, o.host(), o.port());
        Path state = o.stateDir();
        Path template = prepare(home, realmJson, realm);
        installDatabase(template, state, realm);

        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/kc.sh").toString(), "start", "--optimized",
                "--http-enabled=true", "--hostname-strict=false", "--cache=local",
                "--http-host=" + o.host(), "--http-port=" + port,
                "--http-management-port=" + Ports.free(o.host())));
        cmd.addAll(perInstance(state));
        Path log = state.resolve("keycloak.log");
        Path realmFile = realmJson.toAbsolutePath();
        ChildProcess p = ChildProcess.start(SERVICE, cmd, state, env(home), log);
        KeycloakService k = new KeycloakService(realm, realmFile, o.host(), port, p, null, log, Duration.ZERO);
        try {
            k.awaitReady(t0, o.startTimeout());
        } catch (RuntimeException e) {
            p.close(STOP_GRACE);
            throw e;
        }
        return new KeycloakService(realm, realmFile, o.host(), port, p, null, log,
                Duration.ofNanos(System.nanoTime() - t0));
    }

    /** Where an instance keeps its database, transaction log and temp files (never in the shared home). */
    private static List<String> perInstance(Path dir) {
        return List.of(
                "-Dkc.db-url-path=" + dir,
                "-Dquarkus.transaction-manager.object-store.directory=" + dir.resolve("data/transaction-logs"),
                "-Djava.io.tmpdir=" + dir.resolve("tmp"));
    }

    private static Map<String, String> env(Path home) {
        // JAVA_OPTS would replace kc.sh's defaults; APPEND adds what JDK 25 needs, C1 only (measured: start in
        // 28-30 s instead of 66-70 s on the loaded 2-core machine; a local server never needs C2's peak), plus
        // -Ddomus.stack.keycloak.java-opts / $DOMUS_KEYCLOAK_JAVA_OPTS for experiments with JVM flags.
        String extra = System.getProperty("domus.stack.keycloak.java-opts",
                System.getenv().getOrDefault("DOMUS_KEYCLOAK_JAVA_OPTS", ""));
        return Map.of(
                "JAVA_HOME", System.getProperty("java.home"),
                "JAVA_OPTS_APPEND", ("--add-opens=java.base/java.lang=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
                        + " -XX:TieredStopAtLevel=1 "
                        + extra).strip(),
                "JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx512m");
    }

    /**
     * Builds the distribution for dev-file once and imports {@code realmJson} into a template database once per
     * realm hash; returns the template directory (its {@code data/h2} holds the database).
     */
    private static Path prepare(Path home, Path realmJson, KeycloakRealm realm) {
        Path cache = home.resolveSibling(home.getFileName() + "-realms");
        Path template = cache.resolve(realm.sha256().substring(0, 16));
        PREPARE_LOCK.lock();
        try {
            Files.createDirectories(cache);
            try (RandomAccessFile lockFile = new RandomAccessFile(cache.resolve(".lock").toFile(), "rw");
                 FileLock ignored = lockFile.getChannel().lock()) {
                Path built = home.resolve(".domus-built");
                String buildArgs = "build --db=dev-file";
                if (!Files.isRegularFile(built) || !Files.readString(built).strip().equals(buildArgs)) {
                    ChildProcess.run(SERVICE, "kc.sh build",
                            List.of(home.resolve("bin/kc.sh").toString(), "build", "--db=dev-file"),
                            home, env(home), cache.resolve("build.log"), PREPARE_TIMEOUT);
                    Files.writeString(built, buildArgs + "\n");
                }
                if (!Files.isRegularFile(template.resolve(".complete"))) {
                    deleteTree(template);
                    Files.createDirectories(template);
                    Files.copy(realmJson, template.resolve("realm.json"));
                    List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/kc.sh").toString(), "import",
                            "--optimized", "--file=" + template.resolve("realm.json")));
                    cmd.addAll(perInstance(template));
                    Map<String, String> env = new java.util.HashMap<>(env(home));
                    // A master-realm admin for the local stack's console (admin/admin, 127.0.0.1 only).
                    env.put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
                    env.put("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");
                    ChildProcess.run(SERVICE, "kc.sh import of " + realmJson, cmd, template, env,
                            template.resolve("import.log"), PREPARE_TIMEOUT);
                    if (!Files.isDirectory(template.resolve("data/h2"))) {
                        throw new StackException(SERVICE, StackException.Code.START_FAILED,
                                "realm import wrote no database under " + template.resolve("data/h2"),
                                ChildProcess.tail(template.resolve("import.log"), 40), null);
                    }
                    Files.writeString(template.resolve(".complete"), realm.sha256() + "\n");
                }
            }
        } catch (IOException e) {
            throw new StackException(SERVICE, StackException.Code.START_FAILED,
                    "cannot prepare " + home + ": " + e.getMessage(), "", e);
        } finally {
            PREPARE_LOCK.unlock();
        }
        return template;
    }

    /** Copies the template database into the state dir unless it already holds this realm's database. */
    private static void installDatabase(Path template, Path state, KeycloakRealm realm) {
        Path h2 = state.resolve("data/h2");
        Path marker = state.resolve("realm.sha256");
        try {
            Files.createDirectories(state.resolve("tmp"));
            if (Files.isDirectory(h2) && Files.isRegularFile(marker)
                    && Files.readString(marker).strip().equals(realm.sha256())) {
                return;
            }
            deleteTree(h2);
            Files.createDirectories(h2);
            try (var files = Files.list(template.resolve("data/h2"))) {
                for (Path f : files.toList()) {
                    if (f.getFileName().toString().endsWith(".mv.db")) {
                        Files.copy(f, h2.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Files.writeString(marker, realm.sha256() + "\n");
        } catch (IOException e) {
            throw new StackException(SERVICE, StackException.Code.START_FAILED,
                    "cannot install the realm database in " + h2 + ": " + e.getMessage(), "", e);
        }
    }

    private void awaitReady(long t0, Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        process.awaitHttp(http, URI.create(issuer(realm.name()) + "/.well-known/openid-configuration"),
                "\"issuer\":\"" + issuer(realm.name()) + "\"", t0 + timeout.toNanos(), Duration.ofMillis(250),
                "realm " + realm.name() + " not served on " + baseUrl() + " after " + timeout.toSeconds() + " s");
    }

    /** e.g. {@code http://127.0.0.1:8180} */
    public String baseUrl() {
        return "http://" + host + ":" + port;
    }

    /** e.g. {@code http://127.0.0.1:8180/realms/domus}: what Quarkus wants as {@code quarkus.oidc.auth-server-url}. */
    public String issuer(String realmName) {
        return baseUrl() + "/realms/" + realmName;
    }

    /** The token endpoint of {@code realmName}. */
    public String tokenUrl(String realmName) {
        return issuer(realmName) + "/protocol/openid-connect/token";
    }

    /**
     * OIDC resource-owner password grant with the realm's public CLI client ({@code domus-cli}): the access token.
     * For tests and the local stack's seeding; fails with a {@link StackException} naming the answer.
     */
    public static String passwordGrant(String tokenUrl, String user, String password) {
        return Json.passwordToken(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(), tokenUrl,
                "domus-cli", user, password);
    }

    /** The realm file this server was started with (name, client secrets, user passwords). */
    public KeycloakRealm realm() {
        return realm;
    }

    public int port() {
        return port;
    }

    /** Whether the server process is running (false after close, or if it died). */
    public boolean isAlive() {
        return process != null ? process.isAlive() : (Boolean) JvmShared.get(remote, "alive");
    }

    public long pid() {
        return process != null ? process.pid() : (Long) JvmShared.get(remote, "pid");
    }

    public Path logFile() {
        return log;
    }

    /** Time from {@link #start} until the realm's OpenID configuration was served (incl. one-time preparation). */
    public Duration startedIn() {
        return startedIn;
    }

    /** Stops the server; the database stays in the state dir. */
    @Override
    public void close() {
        if (process != null) {
            process.close(STOP_GRACE);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    @Override
    public String toString() {
        return "keycloak " + baseUrl();
    }
}
