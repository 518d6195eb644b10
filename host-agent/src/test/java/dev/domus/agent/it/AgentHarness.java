// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostEventType;
import dev.domus.api.events.Topics;
import dev.domus.stack.KafkaService;
import dev.domus.stack.StackOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Everything an agent IT needs: a Kafka broker, the guest image catalog, a bridge on a free 10.x subnet (created
 * by the agent, removed here), the agent as a child JVM (start, kill -9, restart), a host-event collector, SSH.
 */
final class AgentHarness implements AutoCloseable {
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    final UUID hostId = UUID.randomUUID();
    final Path work;
    final Path runDir;
    final Path stateDir;
    final Path catalog;
    final String bridge;
    final String gateway;
    final int httpPort;
    final KafkaService kafka;
    final Path key;
    final String publicKey;
    final List<HostEvent> events = new CopyOnWriteArrayList<>();
    private final KafkaProducer<String, byte[]> producer;
    private final Thread collector;
    private volatile boolean closing;
    private Process agent;
    private int agentStarts;
    private final HttpClient http = HttpClient.newHttpClient();

    AgentHarness(String testName) throws Exception {
        work = Path.of("target", "agent-it", testName + "-" + ProcessHandle.current().pid()).toAbsolutePath();
        Files.createDirectories(work);
        // Socket paths must fit in 107 bytes: keep the run dir short.
        runDir = Files.createTempDirectory(Path.of("/tmp"), "dait").resolve("xl");
        stateDir = work.resolve("state");
        catalog = work.resolve("catalog");
        Files.createDirectories(catalog);
        Path guest = guestDir();
        Files.deleteIfExists(catalog.resolve("demo"));
        Files.createSymbolicLink(catalog.resolve("demo"), guest);
        String suffix = Long.toHexString(hostId.getMostSignificantBits() & 0xffffff);
        bridge = "dab" + suffix;
        gateway = freeSubnet() + ".1/24";
        httpPort = freePort();
        kafka = KafkaService.start(StackOptions.in(work.resolve("kafka")));
        kafka.createTopic(Topics.HOST_COMMANDS, 1);
        kafka.createTopic(Topics.HOST_EVENTS, 1);
        kafka.createTopic(Topics.USAGE, 1);
        key = work.resolve("id_ed25519");
        Files.deleteIfExists(key);
        Files.deleteIfExists(Path.of(key + ".pub"));
        exec(Duration.ofMinutes(1), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString());
        publicKey = Files.readString(Path.of(key + ".pub")).strip();

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        collector = Thread.ofPlatform().daemon().name("event-collector").start(this::collect);
    }

    static Path guestDir() throws Exception {
        String configured = System.getProperty("domus.guest.dir", "");
        if (!configured.isEmpty()) {
            return Path.of(configured);
        }
        Path root = Path.of(System.getProperty("domus.repo.root", ".."));
        Result r = exec(Duration.ofMinutes(40), root.resolve("deploy/guest/build").toString(), "--print-dir");
        return Path.of(r.out().strip());
    }

    /** A 10.x.y subnet no route of this host touches. */
    static String freeSubnet() throws Exception {
        String routes = exec(Duration.ofSeconds(20), "ip", "-4", "route", "show").out();
        for (int x = 231; x < 250; x++) {
            for (int y = 1; y < 250; y += 7) {
                String net = "10." + x + "." + y;
                if (!routes.contains(net + ".") && !routes.contains("10." + x + ".0.0/16") && !routes.contains("10.0.0.0/8")) {
                    return net;
                }
            }
        }
        throw new IllegalStateException("no free 10.x.y.0/24 subnet");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    void startAgent() throws Exception {
        startAgent(List.of());
    }

    /** Starts the agent with extra {@code -Dkey=value} options (e.g. warm-start settings). */
    void startAgent(List<String> extraProperties) throws Exception {
        agentStarts++;
        List<String> cmd = new ArrayList<>(List.of(JAVA.toString(), "-Xmx256m",
                "-Ddomus.agent.host-id=" + hostId,
                "-Ddomus.agent.state-dir=" + stateDir,
                "-Ddomus.agent.run-dir=" + runDir,
                "-Ddomus.agent.guest-dir=" + catalog,
                "-Ddomus.agent.bridge=" + bridge,
                "-Ddomus.agent.gateway=" + gateway,
                "-Ddomus.agent.restart.initial-backoff=200ms",
                "-Ddomus.agent.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                "-Ddomus.agent.kafka.heartbeat-interval=5s",
                "-Dquarkus.http.port=" + httpPort));
        cmd.addAll(extraProperties);
        cmd.addAll(List.of("-jar", System.getProperty("domus.agent.app", "target/quarkus-app/quarkus-run.jar")));
        Path log = work.resolve("agent-" + agentStarts + ".log");
        agent = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        await("agent " + agentStarts + " ready (log " + log + ")", Duration.ofMinutes(3), () -> {
            if (!agent.isAlive()) {
                throw new AssertionError("agent exited with " + agent.exitValue() + ", see " + log);
            }
            try {
                return get("/agent/v1/status").contains("\"kafka_assigned\":true");
            } catch (IOException | InterruptedException e) {
                return false;
            }
        });
    }

    /** The log file of the agent started last. */
    Path agentLog() {
        return work.resolve("agent-" + agentStarts + ".log");
    }

    /** kill -9 of the agent JVM. */
    void killAgent() throws InterruptedException {
        agent.destroyForcibly();
        agent.waitFor(30, TimeUnit.SECONDS);
    }

    String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    void send(HostCommand cmd) throws Exception {
        producer.send(new ProducerRecord<>(Topics.HOST_COMMANDS, cmd.hostId().toString(), EventCodec.write(cmd)))
                .get(60, TimeUnit.SECONDS);
    }

    HostEvent awaitEvent(String what, Duration timeout, Predicate<HostEvent> p) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (HostEvent e : events) {
                if (p.test(e)) {
                    return e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no host event: " + what + " within " + timeout.toSeconds() + " s; got " + events);
    }

    private void collect() {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + hostId);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, byte[]> k = new KafkaConsumer<>(c, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            k.subscribe(List.of(Topics.HOST_EVENTS));
            while (!closing) {
                for (var r : k.poll(Duration.ofMillis(300))) {
                    events.add(EventCodec.read(r.value(), HostEvent.class));
                }
            }
        } catch (RuntimeException e) {
            if (!closing) {
                e.printStackTrace();
            }
        }
    }

    /** Runs a command over SSH (key auth); empty result status -1 until it works or the timeout passes. */
    Result ssh(String ip, String command, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Result r = null;
        while (System.nanoTime() < deadline) {
            r = exec(Duration.ofSeconds(60), "ssh", "-i", key.toString(), "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                    "-o", "LogLevel=ERROR", "root@" + ip, command);
            if (r.status() == 0) {
                return r;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("ssh root@" + ip + " '" + command + "' failed: " + r);
    }

    /** Runner processes of a domain (by the -Ddomus.domain= property the launcher sets). */
    /** Runner processes of {@code domain}, pooled standbys that took it over included. */
    static List<ProcessHandle> runners(String domain) {
        return dev.domus.stack.DomainProcesses.of(domain);
    }

    record Result(int status, String out, String err) { }

    static Result exec(Duration timeout, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        var out = p.getInputStream();
        var err = p.getErrorStream();
        var fo = java.util.concurrent.CompletableFuture.supplyAsync(() -> readAll(out));
        var fe = java.util.concurrent.CompletableFuture.supplyAsync(() -> readAll(err));
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return new Result(-1, fo.getNow(""), "timeout");
        }
        return new Result(p.exitValue(), fo.get(), fe.get());
    }

    private static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }


    /** Group 1 of {@code p}'s first match in {@code s}; fails the test when there is none. */
    static String group(Pattern p, String s) {
        Matcher m = p.matcher(s);
        assertThat(m.find()).as("%s in %s", p, s).isTrue();
        return m.group(1);
    }

    /** A {@code vps.state} event of {@code vps} with error code {@code code}. */
    static boolean isState(HostEvent e, UUID vps, String code) {
        return e.type() == HostEventType.VPS_STATE && e.vpsId().equals(Optional.of(vps))
                && e.errorCode().equals(Optional.of(code));
    }

    static void await(String what, Duration timeout, Supplier<Boolean> cond) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (cond.get()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
    }

    @Override
    public void close() throws Exception {
        closing = true;
        if (agent != null) {
            agent.destroyForcibly();
            agent.waitFor(30, TimeUnit.SECONDS);
        }
        // Every runner this test started: their run dir is ours alone.
        try (var files = Files.newDirectoryStream(runDir, "*.pid")) {
            for (Path f : files) {
                try {
                    long pid = Long.parseLong(Files.readString(f).strip());
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                } catch (IOException | NumberFormatException e) {
                    // gone
                }
            }
        } catch (IOException e) {
            // no run dir
        }
        Thread.sleep(500);
        exec(Duration.ofSeconds(20), "ip", "link", "del", bridge);
        exec(Duration.ofSeconds(20), "rm", "-rf", runDir.getParent().toString());
        producer.close(Duration.ofSeconds(5));
        collector.join(5000);
        kafka.close();
    }
}
