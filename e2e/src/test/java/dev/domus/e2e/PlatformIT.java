// SPDX-License-Identifier: Apache-2.0
package dev.domus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.domus.stack.Platform;
import dev.domus.stack.PlatformHost;
import dev.domus.stack.PlatformOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole platform, one host, through the public API only: a customer's life cycle of a VPS, then the failures
 * the platform must absorb (runner killed, guest panic, agent killed, Kafka broker restarted mid-create). The
 * host is observed from outside (runner processes, disk directory, tap, the agent's local API); SSH goes to the
 * address the public API shows (the control plane's IP pool), and the agent must be using that very address.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlatformIT {
    private static final Duration ACTION = Duration.ofMinutes(5);
    private static final Duration SSH = Duration.ofMinutes(4);

    private Platform platform;
    private PlatformHost host;
    private Api api;
    private Path work;
    private Path key;
    private String projectId;
    private String sshKeyId;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws Exception {
        work = Path.of("target", "e2e", "platform-" + ProcessHandle.current().pid()).toAbsolutePath();
        Files.createDirectories(work);
        String prefix = "e2e" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 4);
        PlatformOptions o = new PlatformOptions(work.resolve("state"), 1, prefix, freeSubnet(),
                Path.of(System.getProperty("domus.e2e.control-plane-jar",
                        "../control-plane/target/quarkus-app/quarkus-run.jar")),
                Path.of(System.getProperty("domus.e2e.agent-jar", "../host-agent/target/quarkus-app/quarkus-run.jar")),
                guestDir(), Path.of("/run/domus", prefix), 0, Duration.ofMinutes(8));
        platform = Platform.start(o, System.out);
        host = platform.host(1);

        // A customer: alice logs in (OIDC password grant), makes her organization, project and a personal
        // access token, and from then on uses only the token.
        Map<String, String> users = platform.realm().userPasswords();
        String aliceToken = Api.passwordGrant(platform.tokenUrl(), "alice@example.com", users.get("alice@example.com"));
        api = new Api(platform.apiUrl(), aliceToken);
        String org = api.post("/v1/organizations", Map.of("name", "e2e-" + prefix)).expect(201).body()
                .path("id").asText();
        projectId = api.post("/v1/organizations/" + org + "/projects", Map.of("name", "main")).expect(201).body()
                .path("id").asText();
        String pat = api.post("/v1/tokens", Map.of("name", "e2e", "scopes", List.of("read", "write"))).expect(201)
                .body().path("secret").asText();
        assertThat(pat).startsWith("dpat_");
        api.bearer(pat);
        assertThat(api.get("/v1/me").expect(200).body().path("auth").asText()).isEqualTo("token");

        key = work.resolve("id_ed25519");
        exec(Duration.ofMinutes(1), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString());
        String pub = Files.readString(Path.of(key + ".pub")).strip();
        sshKeyId = api.post("/v1/projects/" + projectId + "/ssh-keys", Map.of("name", "e2e", "public_key", pub))
                .expect(201).body().path("id").asText();
    }

    @AfterAll
    void stop() throws Exception {
        if (platform != null) {
            platform.close();
            // Sockets, locks and the runner jar cache of this run only.
            exec(Duration.ofSeconds(60), "rm", "-rf", platform.options().runRoot().toString());
        }
    }

    @Test
    @Order(1)
    void lifeCycleThroughThePublicApi() throws Exception {
        String id = create("web-1");
        String ip = address(id);
        assertThat(ssh(ip, "uname -m", SSH).strip()).isEqualTo("riscv64");
        assertThat(runners(id)).hasSize(1);

        // reboot: the action completes and the guest comes back (same runner, the machine is rebuilt inside it)
        awaitSuccess(action(id, "reboot"));
        assertThat(ssh(ip, "cat /proc/sys/kernel/hostname", SSH).strip()).isEqualTo("web-1");
        ssh(ip, "echo kept > /root/marker && sync", SSH);

        awaitSuccess(action(id, "power_off"));
        assertThat(vps(id).path("status").asText()).isEqualTo("off");
        await("runner of " + id + " gone after power_off", Duration.ofMinutes(2), () -> runners(id).isEmpty());

        // resize while off: s-1 (512 MiB, 10 GB) -> s-2 (2 vCPUs, 2048 MiB, 40 GB); a smaller disk is refused
        awaitSuccess(api.post("/v1/vps/" + id + "/actions", Map.of("type", "resize", "plan", "s-2")).expect(202)
                .body().path("id").asText());
        JsonNode resized = vps(id);
        assertThat(resized.path("plan").asText()).isEqualTo("s-2");
        assertThat(resized.path("status").asText()).isEqualTo("off");
        assertThat(address(id)).isEqualTo(ip);
        assertThat(api.post("/v1/vps/" + id + "/actions", Map.of("type", "resize", "plan", "s-1")).status())
                .isEqualTo(422);
        assertThat(quotaUsed("memory_mb")).isEqualTo(2048);

        awaitSuccess(action(id, "power_on"));
        assertThat(vps(id).path("status").asText()).isEqualTo("running");
        assertThat(ssh(ip, "uname -m", SSH).strip()).isEqualTo("riscv64");
        // The guest sees the new plan: two CPUs, ~2 GiB, a root file system grown past 10 GB; data kept.
        assertThat(ssh(ip, "grep -c ^processor /proc/cpuinfo", SSH).strip()).isEqualTo("2");
        long memKb = Long.parseLong(ssh(ip, "awk '/MemTotal/ {print $2}' /proc/meminfo", SSH).strip());
        assertThat(memKb).isGreaterThan(1_500_000L);
        long rootKb = Long.parseLong(ssh(ip, "df -k / | awk 'NR==2 {print $2}'", SSH).strip());
        assertThat(rootKb).isGreaterThan(30L * 1024 * 1024);
        assertThat(ssh(ip, "cat /root/marker", SSH).strip()).isEqualTo("kept");

        // rebuild: a new root disk from the image; same id, address and key, the old data is gone
        awaitSuccess(api.post("/v1/vps/" + id + "/actions", Map.of("type", "rebuild", "image", Platform.IMAGE))
                .expect(202).body().path("id").asText());
        assertThat(vps(id).path("status").asText()).isEqualTo("running");
        assertThat(address(id)).isEqualTo(ip);
        assertThat(ssh(ip, "test -e /root/marker && echo present || echo gone", SSH).strip()).isEqualTo("gone");
        assertThat(ssh(ip, "cat /proc/sys/kernel/hostname", SSH).strip()).isEqualTo("web-1");
        assertThat(runners(id)).hasSize(1);

        String tap = view(id).tap();
        Path disks = host.stateDir().resolve("vps").resolve(id);
        assertThat(disks.resolve("root.img")).exists();
        assertThat(tapExists(tap)).isTrue();
        assertThat(quotaUsed("vps")).isEqualTo(1);

        Api.Answer del = api.delete("/v1/vps/" + id).expect(202);
        awaitSuccess(del.body().path("id").asText());
        assertThat(api.get("/v1/vps/" + id).status()).isEqualTo(404);
        assertThat(disks).doesNotExist();
        assertThat(tapExists(tap)).isFalse();
        assertThat(runners(id)).isEmpty();
        assertThat(quotaUsed("vps")).isZero();
        assertThat(quotaUsed("memory_mb")).isZero();
    }

    @Test
    @Order(2)
    void killedRunnerIsRestartedAndTheCrashIsAnEvent() throws Exception {
        // Restored by an idle pooled standby runner, as most creates on a host serving an image are: killing that
        // runner must restart the VPS like any other runner.
        await("an idle standby runner on " + host.name(), Duration.ofMinutes(8), () -> poolIdle() > 0);
        String id = create("crash-1");
        assertThat(poolIdle()).as("the standby was taken").isZero();
        String ip = address(id);
        ssh(ip, "true", SSH);
        long before = view(id).runnerPid();
        assertThat(runners(id)).extracting(ProcessHandle::pid).containsExactly(before);

        ProcessHandle.of(before).orElseThrow().destroyForcibly();
        awaitEvents(id, "crashed", 1);
        awaitEvents(id, "restarted", 1);
        await("a new runner for " + id, Duration.ofMinutes(3),
                () -> runners(id).size() == 1 && runners(id).getFirst().pid() != before);
        assertThat(ssh(ip, "uname -m", SSH).strip()).isEqualTo("riscv64");
        await(id + " running again", ACTION, () -> "running".equals(vps(id).path("status").asText()));

        // guest panic: the kernel dies inside a healthy runner
        exec(Duration.ofSeconds(60), sshCommand(ip, "echo c > /proc/sysrq-trigger"));
        awaitEvents(id, "crashed", 2);
        awaitEvents(id, "restarted", 2);
        assertThat(ssh(ip, "uname -m", SSH).strip()).isEqualTo("riscv64");
        assertThat(runners(id)).hasSize(1);
        JsonNode crash = events(id).stream().filter(e -> e.path("type").asText().equals("crashed")).findFirst()
                .orElseThrow();
        assertThat(crash.path("code").asText()).isEqualTo("domain_crashed");
        assertThat(crash.path("host_id").asText()).isEqualTo(host.id().toString());
    }

    @Test
    @Order(3)
    void killedAgentLeavesTheVpsRunningAndTheNewOneAdoptsIt() throws Exception {
        String id = find("crash-1");
        String ip = address(id);
        long runner = view(id).runnerPid();
        long agent = platform.agentPid(1).orElseThrow();

        platform.killAgent(1);
        assertThat(ProcessHandle.of(agent)).isEmpty();
        assertThat(ssh(ip, "uname -m", SSH).strip()).isEqualTo("riscv64");
        assertThat(ProcessHandle.of(runner)).isPresent();

        platform.startAgent(1);
        await("the new agent adopts " + id, Duration.ofMinutes(3), () -> {
            try {
                View w = view(id);
                return w.runnerPid() == runner && "running".equals(w.state());
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(runners(id)).extracting(ProcessHandle::pid).containsExactly(runner);
        assertThat(ssh(ip, "true", SSH)).isNotNull();
        // Reconcile passes after the adoption do not start a second runner either.
        Thread.sleep(20_000);
        assertThat(runners(id)).extracting(ProcessHandle::pid).containsExactly(runner);
        awaitSuccess(api.delete("/v1/vps/" + id).expect(202).body().path("id").asText());
    }

    @Test
    @Order(4)
    void createSurvivesAKafkaBrokerRestart() throws Exception {
        JsonNode r = api.post("/v1/projects/" + projectId + "/vps", Map.of("name", "kafka-1", "plan", "s-1",
                "image", Platform.IMAGE, "region", Platform.REGION, "ssh_keys", List.of(sshKeyId))).expect(202).body();
        String id = r.path("vps").path("id").asText();
        platform.kafka().restart();
        awaitSuccess(r.path("action").path("id").asText());
        JsonNode list = api.get("/v1/projects/" + projectId + "/vps?name=kafka-1").expect(200).body();
        assertThat(list.path("items")).hasSize(1);
        String ip = address(id);
        assertThat(ssh(ip, "uname -m", SSH).strip()).isEqualTo("riscv64");
        assertThat(runners(id)).hasSize(1);
        List<JsonNode> onHost = agentVps();
        assertThat(onHost.stream().filter(n -> n.path("vpsId").asText(n.path("vps_id").asText()).equals(id)))
                .hasSize(1);
        awaitSuccess(api.delete("/v1/vps/" + id).expect(202).body().path("id").asText());
        assertThat(runners(id)).isEmpty();
    }

    // ---- public API helpers

    private String create(String name) throws Exception {
        JsonNode r = api.post("/v1/projects/" + projectId + "/vps", Map.of("name", name, "plan", "s-1",
                "image", Platform.IMAGE, "region", Platform.REGION, "ssh_keys", List.of(sshKeyId))).expect(202).body();
        String id = r.path("vps").path("id").asText();
        assertThat(r.path("action").path("type").asText()).isEqualTo("create");
        awaitSuccess(r.path("action").path("id").asText());
        assertThat(vps(id).path("status").asText()).isEqualTo("running");
        assertThat(vps(id).path("host_id").asText()).isEqualTo(host.id().toString());
        return id;
    }

    private String find(String name) throws Exception {
        JsonNode items = api.get("/v1/projects/" + projectId + "/vps?name=" + name).expect(200).body().path("items");
        assertThat(items).hasSize(1);
        return items.get(0).path("id").asText();
    }

    /**
     * The address the public API shows for the VPS (IP pool of its host), cross-checked against the address the
     * agent runs it with.
     */
    private String address(String id) throws Exception {
        JsonNode v = vps(id);
        assertThat(v.path("ipv4")).as("ipv4 of " + v).hasSize(1);
        String ip = v.path("ipv4").get(0).path("address").asText();
        assertThat(v.path("ipv4").get(0).path("gateway").asText())
                .isEqualTo(host.vpsGateway().substring(0, host.vpsGateway().indexOf('/')));
        assertThat(view(id).ip()).isEqualTo(ip);
        return ip;
    }

    private JsonNode vps(String id) {
        try {
            return api.get("/v1/vps/" + id).expect(200).body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private String action(String vpsId, String type) throws Exception {
        return api.post("/v1/vps/" + vpsId + "/actions", Map.of("type", type)).expect(202).body().path("id").asText();
    }

    private void awaitSuccess(String actionId) throws Exception {
        long deadline = System.nanoTime() + ACTION.toNanos();
        JsonNode a = null;
        while (System.nanoTime() < deadline) {
            a = api.get("/v1/actions/" + actionId).expect(200).body();
            String s = a.path("status").asText();
            if (s.equals("success")) {
                assertThat(a.path("progress").asInt()).isEqualTo(100);
                return;
            }
            if (s.equals("error")) {
                throw new AssertionError("action " + actionId + " failed: " + a);
            }
            Thread.sleep(500);
        }
        throw new AssertionError("action " + actionId + " not done after " + ACTION.toSeconds() + " s: " + a
                + diagnostics());
    }

    private List<JsonNode> events(String vpsId) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        api.get("/v1/vps/" + vpsId + "/events?page_size=100").expect(200).body().path("items").forEach(out::add);
        return out;
    }

    private void awaitEvents(String vpsId, String type, int atLeast) throws Exception {
        long deadline = System.nanoTime() + ACTION.toNanos();
        List<JsonNode> all = List.of();
        while (System.nanoTime() < deadline) {
            all = events(vpsId);
            if (all.stream().filter(e -> e.path("type").asText().equals(type)).count() >= atLeast) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("fewer than " + atLeast + " '" + type + "' events of " + vpsId + ": " + all
                + diagnostics());
    }

    private long quotaUsed(String resource) throws Exception {
        for (JsonNode q : api.get("/v1/projects/" + projectId + "/quotas").expect(200).body().path("items")) {
            if (q.path("resource").asText().equals(resource)) {
                return q.path("used").asLong();
            }
        }
        throw new AssertionError("no quota " + resource);
    }

    // ---- host-side observation

    /** What the agent shows of a VPS on its local API (address, tap, runner pid, phase). */
    record View(String ip, String tap, long runnerPid, String state) {
    }

    private View view(String vpsId) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(host.agentUrl()
                        + "/agent/v1/vps/" + vpsId)).timeout(Duration.ofSeconds(20)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                last = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200) {
                    JsonNode n = Api.JSON.readTree(r.body());
                    String ip = n.path("ip").asText();
                    return new View(ip.contains("/") ? ip.substring(0, ip.indexOf('/')) : ip, n.path("tap").asText(),
                            n.path("runnerPid").asLong(n.path("runner_pid").asLong(-1)), n.path("state").asText());
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("agent does not show " + vpsId + ": " + last);
    }

    /** Idle standby runners of the agent's warm-start pool (its status endpoint). */
    private int poolIdle() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(host.agentUrl() + "/agent/v1/status"))
                    .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Api.JSON.readTree(r.body()).path("pool_idle").asInt(-1) : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private List<JsonNode> agentVps() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(host.agentUrl() + "/agent/v1/vps"))
                .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        List<JsonNode> out = new ArrayList<>();
        Api.JSON.readTree(r.body()).forEach(out::add);
        return out;
    }

    private boolean tapExists(String tap) throws Exception {
        assertThat(tap).isNotBlank();
        return exec(Duration.ofSeconds(20), "ip", "-n", host.namespace(), "link", "show", tap).status() == 0;
    }

    /** Domain runner processes of a VPS, a pooled standby runner that took it over included. */
    private static List<ProcessHandle> runners(String vpsId) {
        return dev.domus.stack.DomainProcesses.of("vps-" + vpsId);
    }

    private String[] sshCommand(String ip, String command) {
        return new String[] {"ssh", "-i", key.toString(), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "-o", "LogLevel=ERROR", "root@" + ip, command};
    }

    /** Runs a command in the VPS over SSH (from the root namespace, routed to the host's VPS net); retries. */
    private String ssh(String ip, String command, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Result r = null;
        while (System.nanoTime() < deadline) {
            r = exec(Duration.ofSeconds(60), sshCommand(ip, command));
            if (r.status() == 0) {
                return r.out();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("ssh root@" + ip + " '" + command + "' failed: " + r + diagnostics());
    }

    record Result(int status, String out, String err) {
    }

    private static Result exec(Duration timeout, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out.getNow(""), "timeout");
        }
        return new Result(p.exitValue(), out.get(), err.get());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void await(String what, Duration timeout, java.util.function.BooleanSupplier cond)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (cond.getAsBoolean()) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
    }

    /**
     * What the host agent was doing, for a failure message (CI shows only the failure): its last logged events and
     * the stacks of its threads that are inside Domus code.
     */
    private String diagnostics() {
        StringBuilder b = new StringBuilder("\n--- agent log (last events):\n");
        try {
            List<String> lines = Files.readAllLines(host.stateDir().getParent().resolve("agent.log")).stream()
                    .filter(l -> l.contains("event=") && !l.contains("NetworkClient")).toList();
            lines.subList(Math.max(0, lines.size() - 25), lines.size())
                    .forEach(l -> b.append(l, 0, Math.min(l.length(), 300)).append('\n'));
        } catch (IOException | RuntimeException e) {
            b.append(e).append('\n');
        }
        platform.agentPid(1).ifPresent(pid -> {
            b.append("--- agent threads in dev.domus code (jcmd ").append(pid).append(" Thread.print):\n");
            try {
                String dump = exec(Duration.ofSeconds(30), Path.of(System.getProperty("java.home"), "bin", "jcmd")
                        .toString(), Long.toString(pid), "Thread.print").out();
                int shown = 0;
                for (String t : dump.split("\n\n")) {
                    if (t.contains("dev.domus.agent") && shown++ < 12) {
                        String[] frames = t.split("\n");
                        for (int i = 0; i < Math.min(frames.length, 14); i++) {
                            b.append(frames[i]).append('\n');
                        }
                    }
                }
            } catch (Exception e) {
                b.append(e).append('\n');
            }
        });
        return b.toString();
    }

    private static Path guestDir() throws Exception {
        String configured = System.getProperty("domus.guest.dir", "");
        if (!configured.isEmpty()) {
            return Path.of(configured);
        }
        Path root = Path.of(System.getProperty("domus.repo.root", ".."));
        Result r = exec(Duration.ofMinutes(40), root.resolve("deploy/guest/build").toString(), "--print-dir");
        assertThat(r.status()).as("deploy/guest/build: " + r.err()).isZero();
        return Path.of(r.out().strip());
    }

    /** A 10.x /16 (x in 150..199) that no route or address of this machine touches. */
    private static String freeSubnet() throws Exception {
        String used = exec(Duration.ofSeconds(20), "ip", "-4", "route", "show").out()
                + exec(Duration.ofSeconds(20), "ip", "-4", "-o", "addr", "show").out();
        Predicate<String> free = net -> !used.contains(" " + net + ".") && !used.contains("\n" + net + ".")
                && !used.startsWith(net + ".");
        int start = ThreadLocalRandom.current().nextInt(50);
        for (int k = 0; k < 50; k++) {
            String net = "10." + (150 + (start + k) % 50);
            if (free.test(net)) {
                return net;
            }
        }
        throw new IllegalStateException("no free 10.x.0.0/16 between 10.150 and 10.199");
    }
}
