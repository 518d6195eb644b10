// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * A real single-node Kafka broker (KRaft, broker + controller in one JVM) in its own process, from the broker
 * jars that local-stack's build put in the cache. Data in {@code stateDir/data}, output in
 * {@code stateDir/kafka.log}; an existing log dir is reused.
 */
public final class KafkaService implements AutoCloseable {

    static final String SERVICE = "kafka";
    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final StackOptions options;
    private final Path libs;
    private final int port;
    private final int controllerPort;
    private Admin admin;
    private ChildProcess process;
    private Duration startedIn;
    private boolean closed;
    /** Set on a view of the JVM-wide broker owned by another class loader (see {@link #shared}). */
    private javax.management.ObjectName remote;

    private KafkaService(StackOptions options, Path libs, int port, int controllerPort) {
        this.options = options;
        this.libs = libs;
        this.port = port;
        this.controllerPort = controllerPort;
    }

    private Admin newAdmin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "domus-local-stack");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        // Kafka loads configured classes (metrics reporters, ...) through the context class loader; inside a
        // Quarkus test that is the app's loader, whose copies do not fit this loader's client classes.
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(KafkaService.class.getClassLoader());
        try {
            return Admin.create(p);
        } finally {
            t.setContextClassLoader(previous);
        }
    }

    /** Formats the log dir if new, starts the broker and waits until it answers a metadata request. */
    public static KafkaService start(StackOptions o) {
        Path libs = Distributions.kafkaLibs();
        if (!Files.isRegularFile(libs.resolve("kafka_2.13-" + Distributions.kafkaVersion() + ".jar"))) {
            throw Distributions.notInstalled(SERVICE, libs);
        }
        int port = Ports.claim(SERVICE, o.host(), o.port());
        int controllerPort = Ports.free(o.host());
        KafkaService k = new KafkaService(o, libs, port, controllerPort);
        try {
            k.prepare();
            k.launch();
        } catch (RuntimeException e) {
            k.close();
            throw e;
        }
        return k;
    }

    /**
     * The JVM-wide broker: started with {@code options} on first use, shared by every class loader of this JVM
     * (each Quarkus test profile has its own); its shutdown hook stops it. {@link #close()} of a view owned by
     * another loader leaves the broker running.
     */
    public static KafkaService shared(java.util.function.Supplier<StackOptions> options) {
        return JvmShared.getOrStart(SERVICE, options, "", () -> start(options.get()), k -> new JvmShared.Published(
                Map.<String, java.util.function.Supplier<Object>>of(
                        "bootstrapServers", k::bootstrapServers,
                        "stateDir", () -> k.options.stateDir().toString(),
                        "pid", () -> k.pid(),
                        "alive", () -> k.isAlive(),
                        "startedInMillis", () -> k.startedIn().toMillis()),
                Map.of("restart", k::restart)), KafkaService::attach);
    }

    private static KafkaService attach(javax.management.ObjectName name) {
        String bootstrap = (String) JvmShared.get(name, "bootstrapServers");
        int colon = bootstrap.lastIndexOf(':');
        int port = Integer.parseInt(bootstrap.substring(colon + 1));
        StackOptions o = StackOptions.in(Path.of((String) JvmShared.get(name, "stateDir"))).withPort(port)
                .withHost(bootstrap.substring(0, colon));
        KafkaService k = new KafkaService(o, Distributions.kafkaLibs(), port, -1);
        k.remote = name;
        k.admin = k.newAdmin();
        return k;
    }

    private Path config() {
        return options.stateDir().resolve("server.properties");
    }

    private Path log() {
        return options.stateDir().resolve("kafka.log");
    }

    private void prepare() {
        Path data = options.stateDir().resolve("data");
        Path log4j = options.stateDir().resolve("log4j2.properties");
        try {
            Files.createDirectories(data);
            try (InputStream in = KafkaService.class.getResourceAsStream("kafka-log4j2.properties")) {
                Files.copy(in, log4j, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.writeString(config(), serverProperties(data), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StackException(SERVICE, StackException.Code.START_FAILED,
                    "cannot write config in " + options.stateDir() + ": " + e.getMessage(), "", e);
        }
        if (!Files.exists(data.resolve("meta.properties"))) {
            ChildProcess.run(SERVICE, "storage format", java("kafka.tools.StorageTool",
                            "format", "-t", newClusterId(), "-c", config().toString()),
                    options.stateDir(), Map.of(), options.stateDir().resolve("kafka-format.log"),
                    options.startTimeout());
        }
    }

    private String serverProperties(Path data) {
        String h = options.host();
        return String.join("\n",
                "# Written by dev.domus.stack.KafkaService on every start; edit the code, not this file.",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@" + h + ":" + controllerPort,
                "listeners=PLAINTEXT://" + h + ":" + port + ",CONTROLLER://" + h + ":" + controllerPort,
                "advertised.listeners=PLAINTEXT://" + h + ":" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + data,
                "num.partitions=1",
                "auto.create.topics.enable=true",
                // One node: every internal topic has one replica and one in-sync replica.
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "share.coordinator.state.topic.num.partitions=1",
                // Consumers join at once instead of waiting 3 s for more members.
                "group.initial.rebalance.delay.ms=0",
                // Small footprint on a shared 2-core machine.
                "num.network.threads=1",
                "num.io.threads=2",
                "num.recovery.threads.per.data.dir=1",
                "");
    }

    private List<String> java(String mainClass, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--sun-misc-unsafe-memory-access=allow",
                "-Djava.awt.headless=true",
                "-Dlog4j2.configurationFile=" + options.stateDir().resolve("log4j2.properties"),
                "-Dkafka.logs.dir=" + options.stateDir(),
                "-cp", libs + "/*",
                mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** 22 characters of base64url; never starting with '-', which the format tool would read as an option. */
    static String newClusterId() {
        while (true) {
            UUID u = UUID.randomUUID();
            ByteBuffer b = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
                    .putLong(u.getLeastSignificantBits());
            String id = Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
            if (id.charAt(0) != '-') {
                return id;
            }
        }
    }

    private void launch() {
        long t0 = System.nanoTime();
        process = ChildProcess.start(SERVICE, java("kafka.Kafka", config().toString()), options.stateDir(), Map.of(),
                log());
        awaitReady(t0);
        startedIn = Duration.ofNanos(System.nanoTime() - t0);
    }

    private void awaitReady(long t0) {
        long deadline = t0 + options.startTimeout().toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new StackException(SERVICE, StackException.Code.START_FAILED,
                        "broker exited with code " + process.exitCode().orElse(-1) + " during start (log " + log()
                                + ")", process.tail(40), last);
            }
            // The admin client logs a warning per failed connect: only create it once the listener accepts.
            if (admin == null) {
                if (!accepts()) {
                    sleep(200);
                    continue;
                }
                admin = newAdmin();
            }
            try {
                if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StackException(SERVICE, StackException.Code.START_FAILED, "interrupted while starting");
            }
            sleep(200);
        }
        throw new StackException(SERVICE, StackException.Code.TIMEOUT,
                "not ready on " + bootstrapServers() + " after " + options.startTimeout().toSeconds() + " s (log "
                        + log() + ")", process.tail(40), last);
    }

    private boolean accepts() {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(options.host(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String bootstrapServers() {
        return options.host() + ":" + port;
    }

    public int port() {
        return port;
    }

    /** Time of the last (re)start until the broker answered metadata. */
    public synchronized Duration startedIn() {
        if (remote != null) {
            return Duration.ofMillis((Long) JvmShared.get(remote, "startedInMillis"));
        }
        return startedIn;
    }

    public Path logFile() {
        return log();
    }

    /** Whether the broker JVM is running (false after close, or if it died). */
    public synchronized boolean isAlive() {
        if (remote != null) {
            return !closed && (Boolean) JvmShared.get(remote, "alive");
        }
        return process != null && process.isAlive();
    }

    /** Process id of the running broker JVM. */
    public synchronized long pid() {
        if (remote != null) {
            return (Long) JvmShared.get(remote, "pid");
        }
        return process.pid();
    }

    /** Creates topic {@code name} with one replica if it does not exist. */
    public synchronized void createTopic(String name, int partitions) {
        if (name == null || !TOPIC.matcher(name).matches()) {
            throw new IllegalArgumentException("topic name must match " + TOPIC.pattern() + ", got " + name);
        }
        if (partitions < 1 || partitions > 1000) {
            throw new IllegalArgumentException("partitions must be 1..1000, got " + partitions);
        }
        if (closed || admin == null) {
            throw new IllegalStateException("kafka service is closed");
        }
        try {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all()
                    .get(options.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new StackException(SERVICE, StackException.Code.OPERATION_FAILED,
                        "cannot create topic " + name + ": " + e.getCause(), "", e.getCause());
            }
        } catch (TimeoutException e) {
            throw new StackException(SERVICE, StackException.Code.TIMEOUT, "create topic " + name + " timed out",
                    "", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException(SERVICE, StackException.Code.OPERATION_FAILED, "interrupted");
        }
    }

    /**
     * Stops the broker (SIGTERM, waits for a clean shutdown) and starts it again on the same port and log dir:
     * for tests of what clients do while the broker is away.
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("kafka service is closed");
        }
        if (remote != null) {
            JvmShared.invoke(remote, "restart");
            return;
        }
        closeAdmin();
        process.close(STOP_GRACE);
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        while (!Ports.isFree(options.host(), port) && System.nanoTime() < deadline) {
            sleep(100);
        }
        if (!Ports.isFree(options.host(), port)) {
            throw new StackException(SERVICE, StackException.Code.PORT_IN_USE,
                    "port " + port + " still taken after the broker stopped");
        }
        launch();
    }

    /** Stops the broker; the log dir stays in the state dir. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAdmin();
        if (process != null) {
            process.close(STOP_GRACE);
        }
    }

    private void closeAdmin() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
            admin = null;
        }
    }

    @Override
    public String toString() {
        return "kafka " + bootstrapServers();
    }
}
