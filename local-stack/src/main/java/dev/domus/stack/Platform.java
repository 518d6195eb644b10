// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The whole platform on one machine: PostgreSQL, Kafka, Keycloak, the packaged control plane and N host agents,
 * each agent in its own network namespace joined to the root namespace by a veth pair on a management bridge
 * ({@link Netns}). Kafka, Keycloak and the control plane listen on the bridge's address, so agents reach them and
 * the token issuer is one URL for everybody; PostgreSQL stays on 127.0.0.1 (only the control plane uses it).
 * Hosts are registered by the operator before their agent starts, so the agent runs with the id the control plane
 * gave it. {@link #close()} stops everything it started and removes the namespaces, veths, bridge and routes; data
 * stays in the state directory.
 */
public final class Platform implements AutoCloseable {

    /** The realm's region and image the demo and the tests use (seeded by the control plane's migration). */
    public static final String REGION = "local-1";
    public static final String IMAGE = "debian-12";
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);
    private static final List<String> TOOLS = List.of("ip", "ssh", "ssh-keygen", "mke2fs", "e2fsck", "resize2fs",
            "setsid", "setpriv", "truncate", "cp");

    private final PlatformOptions options;
    private final PrintStream progress;
    private final List<AutoCloseable> services = new ArrayList<>();
    private final List<PlatformHost> hosts = new ArrayList<>();
    private final ChildProcess[] agents;
    private final int[] agentStarts;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private PostgresService postgres;
    private KafkaService kafka;
    private KeycloakService keycloak;
    private ChildProcess controlPlane;
    private String apiUrl;
    private int apiPort;
    private boolean closed;
    private final Thread hook = new Thread(this::close, "domus-platform-stop");

    private Platform(PlatformOptions options, PrintStream progress) {
        this.options = options;
        this.progress = progress;
        this.agents = new ChildProcess[options.hosts() + 1];
        this.agentStarts = new int[options.hosts() + 1];
    }

    /**
     * Starts everything and waits until each agent has joined Kafka. Leftover namespaces of the same prefix (a
     * crashed run) are removed first. A missing tool, a taken port or subnet fails at once with a
     * {@link StackException} whose message is one line.
     */
    public static Platform start(PlatformOptions o, PrintStream progress) {
        preflight(o);
        Platform p = new Platform(o, progress);
        // The services die with this JVM on their own (parent-death signal); the network and the domain runners
        // inside it need this hook (a SIGKILL of the JVM leaves them for the next start or deploy/down).
        Runtime.getRuntime().addShutdownHook(p.hook);
        try {
            p.boot();
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private static void preflight(PlatformOptions o) {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new StackException("platform", StackException.Code.START_FAILED,
                    "must run as root (network namespaces, bridges and taps)");
        }
        for (String tool : TOOLS) {
            if (!Netns.onPath(tool)) {
                throw new StackException("platform", StackException.Code.START_FAILED,
                        "missing tool: " + tool + " (apt-get install iproute2 openssh-client e2fsprogs util-linux)");
            }
        }
        for (Path jar : List.of(o.controlPlaneJar(), o.agentJar())) {
            if (!Files.isRegularFile(jar)) {
                throw new StackException("platform", StackException.Code.START_FAILED,
                        "missing " + jar + " (build it: ./mvnw -pl control-plane,host-agent -am package -DskipTests)");
            }
        }
        for (String f : List.of("Image", "rootfs.ext4")) {
            if (!Files.isRegularFile(o.guestDir().resolve(f))) {
                throw new StackException("platform", StackException.Code.START_FAILED,
                        "guest image incomplete: " + o.guestDir().resolve(f) + " is missing (deploy/guest/build)");
            }
        }
    }

    private void boot() {
        long t0 = System.nanoTime();
        List<String> left = Netns.cleanup(options.prefix(), vpsNets());
        if (!left.isEmpty()) {
            say("removed leftovers of an earlier run: " + String.join(" ", left));
        }
        if (Netns.subnetInUse(options.subnet())) {
            throw new StackException("network", StackException.Code.START_FAILED,
                    "subnet " + options.subnet() + ".0.0/16 is already used by a route or address of this machine"
                            + " (choose another with --subnet)");
        }
        String mgmt = options.managementAddress();
        Netns.createBridge(options.prefix(), mgmt + "/24");
        for (int i = 1; i <= options.hosts(); i++) {
            Netns.createHost(options.prefix(), i, options.hostAddress(i) + "/24", mgmt, options.vpsNet(i));
        }
        say("network: bridge " + Netns.bridge(options.prefix()) + " " + mgmt + "/24, namespaces "
                + String.join(" ", Netns.namespaces(options.prefix())));
        // A taken API port fails now, not after a minute of service start-up.
        apiPort = Ports.claim("control-plane", mgmt, options.apiPort());

        Path d = options.stateDir();
        long t = System.nanoTime();
        postgres = track(PostgresService.start(new StackOptions(d.resolve("postgres"), 0, options.startTimeout())));
        postgres.createDatabase("control_plane");
        ready("postgres", "127.0.0.1:" + postgres.port(), t);

        t = System.nanoTime();
        kafka = track(KafkaService.start(new StackOptions(d.resolve("kafka"), 0, options.startTimeout(), mgmt)));
        kafka.createTopic("domus.host-commands", 3);
        kafka.createTopic("domus.host-events", 3);
        kafka.createTopic("domus.usage", 3);
        ready("kafka", kafka.bootstrapServers(), t);

        t = System.nanoTime();
        keycloak = track(KeycloakService.start(new StackOptions(d.resolve("keycloak"), 0, options.startTimeout(), mgmt),
                realmFile(d)));
        ready("keycloak", keycloak.baseUrl(), t);

        t = System.nanoTime();
        startControlPlane();
        ready("control-plane", apiUrl, t);

        String ops = passwordToken("ops");
        for (int i = 1; i <= options.hosts(); i++) {
            hosts.add(register(i, ops));
        }
        for (int i = 1; i <= options.hosts(); i++) {
            t = System.nanoTime();
            startAgent(i);
            ready("host-agent h" + i, namespace(i) + " " + options.hostAddress(i) + ", VPS net " + options.vpsNet(i), t);
        }
        say(String.format(Locale.ROOT, "platform ready in %.1f s", (System.nanoTime() - t0) / 1e9));
    }

    private List<String> vpsNets() {
        List<String> nets = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            nets.add(options.vpsNet(i));
        }
        return nets;
    }

    private static Path realmFile(Path d) {
        Path target = d.resolve("domus-realm.json");
        try (InputStream in = Platform.class.getResourceAsStream("domus-realm.json")) {
            if (in == null) {
                throw new IllegalStateException("domus-realm.json is missing from the local-stack jar");
            }
            Files.createDirectories(d);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new StackException("keycloak", StackException.Code.START_FAILED, "cannot write " + target, "", e);
        }
        return target;
    }

    private void startControlPlane() {
        Path d = options.stateDir().resolve("control-plane");
        int port = apiPort;
        apiUrl = "http://" + options.managementAddress() + ":" + port;
        List<String> cmd = List.of(java(), "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dquarkus.http.host=" + options.managementAddress(), "-Dquarkus.http.port=" + port,
                "-jar", options.controlPlaneJar().toString());
        Map<String, String> env = Map.of(
                "DOMUS_DB_URL", postgres.jdbcUrl("control_plane"),
                "DOMUS_DB_USER", postgres.username(),
                "DOMUS_DB_PASSWORD", postgres.password(),
                "DOMUS_OIDC_URL", issuer(),
                "DOMUS_KAFKA", kafka.bootstrapServers());
        mkdirs(d);
        controlPlane = ChildProcess.start("control-plane", cmd, d, env, d.resolve("control-plane.log"));
        awaitHttp("control-plane", controlPlane, apiUrl + "/q/health/ready", "\"UP\"");
    }

    /** Registers host {@code i} as the operator (idempotent by name: a restart keeps the id). */
    private PlatformHost register(int i, String opsToken) {
        JsonNode h = Json.call(http, "POST", apiUrl + "/v1/hosts", opsToken, Json.object(
                "name", "h" + i, "region", REGION,
                "capacity", Json.object("vcpus", 8, "memory_mb", 8192, "disk_gb", 500),
                "agent_version", "0.1.0"));
        Path dir = options.stateDir().resolve("hosts").resolve("h" + i);
        return new PlatformHost(i, "h" + i, UUID.fromString(h.path("id").asText()), namespace(i),
                options.hostAddress(i), options.vpsGateway(i), dir.resolve("state"),
                options.runRoot().resolve("h" + i));
    }

    /** Starts (or restarts after {@link #killAgent}) host {@code i}'s agent and waits until it consumes commands. */
    public synchronized void startAgent(int i) {
        PlatformHost h = host(i);
        if (agents[i] != null && agents[i].isAlive()) {
            throw new IllegalStateException("agent h" + i + " is running (pid " + agents[i].pid() + ")");
        }
        Path dir = options.stateDir().resolve("hosts").resolve(h.name());
        Path catalog = dir.resolve("images");
        mkdirs(catalog);
        mkdirs(h.runDir());
        try {
            Path link = catalog.resolve(IMAGE);
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, options.guestDir().toAbsolutePath());
        } catch (IOException e) {
            throw new StackException("host-agent", StackException.Code.START_FAILED, "cannot link the image", "", e);
        }
        agentStarts[i]++;
        List<String> cmd = List.of("ip", "netns", "exec", h.namespace(), java(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dquarkus.http.host=" + h.address(), "-Dquarkus.http.port=8090",
                "-Ddomus.agent.host-id=" + h.id(),
                // Region (default local-1 = REGION) and capacity (detected from /proc and the state dir) are the
                // agent's own; -Ddomus.agent.region / -Ddomus.agent.capacity.* still override them.
                "-Ddomus.agent.host-name=" + h.name(),
                "-Ddomus.agent.state-dir=" + h.stateDir(),
                "-Ddomus.agent.run-dir=" + h.runDir(),
                "-Ddomus.agent.guest-dir=" + catalog,
                "-Ddomus.agent.bridge=domusbr0",
                "-Ddomus.agent.gateway=" + h.vpsGateway(),
                "-Ddomus.agent.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                "-Ddomus.agent.control-plane-url=" + apiUrl,
                "-Ddomus.agent.reconcile-interval=15s",
                "-Ddomus.agent.oidc.token-url=" + tokenUrl(),
                "-Ddomus.agent.oidc.client-secret=" + keycloak.realm().clientSecrets().get("domus-host-agent"),
                "-jar", options.agentJar().toString());
        ChildProcess p = ChildProcess.start("host-agent-" + h.name(), cmd, dir, Map.of(),
                dir.resolve("agent.log"));
        agents[i] = p;
        awaitHttp("host-agent " + h.name(), p, h.agentUrl() + "/agent/v1/status", "\"kafka_assigned\":true");
    }

    /** kill -9 of host {@code i}'s agent alone: its domain runners keep running (they are their own sessions). */
    public synchronized void killAgent(int i) {
        host(i);
        if (agents[i] != null) {
            agents[i].kill();
        }
    }

    /** Pid of host {@code i}'s agent JVM, if running. */
    public synchronized Optional<Long> agentPid(int i) {
        host(i);
        return agents[i] != null && agents[i].isAlive() ? Optional.of(agents[i].pid()) : Optional.empty();
    }

    public PlatformHost host(int i) {
        if (i < 1 || i > hosts.size()) {
            throw new IllegalArgumentException("host must be 1.." + hosts.size() + ", got " + i);
        }
        return hosts.get(i - 1);
    }

    public List<PlatformHost> hosts() {
        return List.copyOf(hosts);
    }

    /** The public API, e.g. {@code http://10.200.0.1:8080}. */
    public String apiUrl() {
        return apiUrl;
    }

    public String issuer() {
        return keycloak.issuer(keycloak.realm().name());
    }

    public String tokenUrl() {
        return keycloak.tokenUrl(keycloak.realm().name());
    }

    /** The realm's users, clients and secrets. */
    public KeycloakRealm realm() {
        return keycloak.realm();
    }

    /** The broker, for restart tests. */
    public KafkaService kafka() {
        return kafka;
    }

    public PlatformOptions options() {
        return options;
    }

    /** Pids of the processes this platform started itself (services, control plane, agents). */
    public Map<String, Long> pids() {
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        postgres.pid().ifPresent(p -> m.put("postgres", p));
        m.put("kafka", kafka.pid());
        m.put("keycloak", keycloak.pid());
        m.put("control-plane", controlPlane.pid());
        for (int i = 1; i < agents.length; i++) {
            if (agents[i] != null && agents[i].isAlive()) {
                m.put("host-agent-h" + i, agents[i].pid());
            }
        }
        return m;
    }

    /** A realm user's access token (OIDC password grant with the public CLI client); {@code alice} = alice@... */
    public String passwordToken(String user) {
        for (var u : keycloak.realm().userPasswords().entrySet()) {
            if (u.getKey().equals(user) || u.getKey().startsWith(user + "@")) {
                return Json.passwordToken(http, tokenUrl(), "domus-cli", u.getKey(), u.getValue());
            }
        }
        throw new IllegalArgumentException("no user " + user + " with a password in the realm");
    }

    /** Whether a service or agent this platform started has died; empty while all run. */
    public synchronized Optional<String> deadService() {
        if (!kafka.isAlive()) {
            return Optional.of("kafka");
        }
        if (!keycloak.isAlive()) {
            return Optional.of("keycloak");
        }
        if (postgres.pid().isEmpty()) {
            return Optional.of("postgres");
        }
        if (!controlPlane.isAlive()) {
            return Optional.of("control-plane");
        }
        for (int i = 1; i < agents.length; i++) {
            if (agents[i] != null && !agents[i].isAlive()) {
                return Optional.of("host-agent-h" + i);
            }
        }
        return Optional.empty();
    }

    private void awaitHttp(String what, ChildProcess p, String url, String expect) {
        p.awaitHttp(http, URI.create(url), expect, System.nanoTime() + options.startTimeout().toNanos(),
                Duration.ofMillis(300), what + " not ready at " + url + " after " + options.startTimeout().toSeconds()
                        + " s");
    }

    private String namespace(int i) {
        return Netns.namespace(options.prefix(), i);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static void mkdirs(Path d) {
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new StackException("platform", StackException.Code.START_FAILED, "cannot create " + d, "", e);
        }
    }

    private <T extends AutoCloseable> T track(T s) {
        services.add(s);
        return s;
    }

    private void ready(String service, String where, long t0) {
        say(String.format(Locale.ROOT, "%s ready on %s (%.1f s)", service, where, (System.nanoTime() - t0) / 1e9));
    }

    private void say(String line) {
        progress.println(line);
        progress.flush();
    }

    /**
     * Stops the agents (SIGTERM to each agent and its descendants), kills what is left in the namespaces (domain
     * runners), removes the network, then the control plane and the services. Safe to call twice.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is shutting down: the hook finds the platform closed.
            }
        }
        for (int i = 1; i < agents.length; i++) {
            if (agents[i] != null) {
                agents[i].close(Duration.ofSeconds(15));
            }
        }
        List<String> removed = Netns.cleanup(options.prefix(), vpsNets());
        if (!removed.isEmpty()) {
            say("network removed: " + String.join(" ", removed));
        }
        if (controlPlane != null) {
            controlPlane.close(STOP_GRACE);
            say("control-plane stopped");
        }
        for (int i = services.size() - 1; i >= 0; i--) {
            AutoCloseable s = services.get(i);
            try {
                s.close();
                say(s.toString().split(" ")[0] + " stopped");
            } catch (Exception e) {
                say("stopping " + s + ": " + e.getMessage());
            }
        }
    }
}
