// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.it;

import static dev.domus.agent.it.AgentHarness.group;
import static dev.domus.agent.it.AgentHarness.isState;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.agent.domain.VpsRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Warm start on a real agent: the first VPS of a shape cold-boots and queues its template (a guest booted with
 * {@code domus.template=1}, saved at its marker); the next two are restored from that one snapshot. Each clone must
 * be itself: its own hostname, address, MAC and SSH host key (checked strictly), and its own CRNG stream right after
 * the restore (the clones left the snapshot with identical RNG state; the resume seed must have reseeded it). A
 * reboot of a clone is a cold boot of its own disks. The agent's log says which start was warm. Both clones are
 * restored by standby runners of the agent's pool (warmed up by a throw-away clone after the template was built,
 * refilled after each take); the pool's idle runner is never a domain and ends when the agent is killed.
 */
class WarmStartIT {
    private static final Duration BOOT = Duration.ofMinutes(10);
    private static final Pattern IP = Pattern.compile("\"ip\":\"([0-9.]+)/");
    private static final Pattern PID = Pattern.compile("\"runnerPid\":(\\d+)");
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void twoClonesOfOneTemplateAreDistinctVpses() throws Exception {
        try (AgentHarness h = new AgentHarness("warmstart")) {
            h.startAgent(List.of("-Ddomus.agent.warm-start.max-templates=2"));
            Path templates = h.stateDir.resolve("templates");

            UUID first = UUID.randomUUID();
            String ip0 = ip(create(h, first, "cold-0"));
            assertThat(h.ssh(ip0, "hostname", BOOT).out().strip()).isEqualTo("cold-0");
            assertThat(log(h)).containsPattern("event=domain_started vps=" + first + " .*mode=cold");
            AgentHarness.await("template snapshot in " + templates, BOOT, () -> snapshots(templates).size() == 1);
            String tpl = snapshots(templates).getFirst().getFileName().toString();
            assertThat(tpl).startsWith("demo.256m1c1g.").endsWith(".snap");

            // The pool's standby runner warms up on the new template; each clone then takes a warmed-up runner.
            AgentHarness.await("standby runner ready", BOOT, () -> count(h, "event=runner_pool_ready") >= 1);
            UUID a = UUID.randomUUID();
            UUID b = UUID.randomUUID();
            String ipA = ip(create(h, a, "warm-a"));
            AgentHarness.await("pool refilled", BOOT, () -> count(h, "event=runner_pool_ready") >= 2);
            String ipB = ip(create(h, b, "warm-b"));
            assertThat(log(h)).containsPattern("event=domain_started vps=" + a + " .*mode=warm.* pooled=true")
                    .containsPattern("event=domain_started vps=" + b + " .*mode=warm.* pooled=true");
            // Right after the restore, before anything else reads it: the clones' RNG output must differ.
            String rngA = h.ssh(ipA, "head -c16 /dev/urandom | od -An -tx1 | tr -d ' \\n'", BOOT).out().strip();
            String rngB = h.ssh(ipB, "head -c16 /dev/urandom | od -An -tx1 | tr -d ' \\n'", BOOT).out().strip();
            assertThat(rngA).matches("[0-9a-f]{32}");
            assertThat(rngB).matches("[0-9a-f]{32}").isNotEqualTo(rngA);
            for (UUID id : List.of(a, b)) {
                String ip = id.equals(a) ? ipA : ipB;
                String name = id.equals(a) ? "warm-a" : "warm-b";
                assertThat(h.ssh(ip, "hostname", BOOT).out().strip()).isEqualTo(name);
                assertThat(h.ssh(ip, "cat /sys/class/net/eth0/address", BOOT).out().strip())
                        .isEqualTo(VpsRecord.macFor(id));
                assertThat(h.ssh(ip, "ip -4 addr show eth0", BOOT).out()).contains("inet " + ip + "/");
                assertThat(h.ssh(ip, "mount | grep ' on / '", BOOT).out()).as("the clone's own root disk")
                        .contains("/dev/vda");
                assertThat(strictSsh(h, id, ip)).as("host key of %s is the one the agent made", name)
                        .isEqualTo("strict-ok");
            }
            String bootA = h.ssh(ipA, "cat /proc/sys/kernel/random/boot_id", BOOT).out().strip();
            String bootB = h.ssh(ipB, "cat /proc/sys/kernel/random/boot_id", BOOT).out().strip();
            System.out.printf("warm clones: rng %s / %s, boot_id %s / %s%n", rngA, rngB, bootA, bootB);
            assertThat(snapshots(templates)).as("one template served both").hasSize(1);

            // kill -9 of a clone's runner right after its start (the pooled standby that took warm-b over, the
            // pool's refill not started yet): the agent restarts it like any other runner.
            long pidB = Long.parseLong(group(PID, request(h, "GET", "/agent/v1/vps/" + b, null)));
            ProcessHandle.of(pidB).orElseThrow().destroyForcibly();
            h.awaitEvent("warm-b restarted after its pooled runner was killed", Duration.ofMinutes(4),
                    e -> isState(e, b, "domain_restarted"));
            assertThat(Long.parseLong(group(PID, request(h, "GET", "/agent/v1/vps/" + b, null)))).isNotEqualTo(pidB);
            assertThat(h.ssh(ipB, "hostname", BOOT).out().strip()).isEqualTo("warm-b");

            // Reboot of a clone: the runner boots the VPS's own config (no template), and it comes back.
            String upBefore = h.ssh(ipA, "cut -d' ' -f1 /proc/uptime", BOOT).out().strip();
            assertThat(request(h, "POST", "/agent/v1/vps/" + a + "/reboot", null)).startsWith("200 ");
            AgentHarness.await("warm-a rebooted", BOOT, () -> {
                try {
                    String up = h.ssh(ipA, "cut -d' ' -f1 /proc/uptime", Duration.ofSeconds(30)).out().strip();
                    return Double.parseDouble(up) < Double.parseDouble(upBefore);
                } catch (Exception | AssertionError e) {
                    return false;
                }
            });
            assertThat(h.ssh(ipA, "cat /proc/cmdline", BOOT).out()).doesNotContain("domus.template");
            assertThat(h.ssh(ipA, "hostname", BOOT).out().strip()).isEqualTo("warm-a");

            for (UUID id : List.of(first, a, b)) {
                assertThat(request(h, "DELETE", "/agent/v1/vps/" + id, null)).startsWith("200 ");
            }

            // The idle standby (refilled after b) is no domain, and ends by itself when the agent dies (kill -9).
            AgentHarness.await("pool refilled after b", BOOT, () -> count(h, "event=runner_pool_ready") >= 3);
            Matcher last = Pattern.compile("event=runner_pool_ready pid=(\\d+)").matcher(log(h));
            long standby = 0;
            while (last.find()) {
                standby = Long.parseLong(last.group(1));
            }
            assertThat(ProcessHandle.of(standby).map(ProcessHandle::isAlive)).as("idle standby %d", standby)
                    .contains(true);
            assertThat(request(h, "GET", "/agent/v1/vps", null)).doesNotContain(Long.toString(standby));
            h.killAgent();
            long pid = standby;
            AgentHarness.await("standby " + pid + " ended after the agent died", Duration.ofMinutes(2),
                    () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        }
    }

    private String create(AgentHarness h, UUID id, String hostname) throws Exception {
        String body = "{\"hostname\":\"" + hostname + "\",\"vcpus\":1,\"memoryMb\":256,\"diskGb\":1,\"image\":\"demo\","
                + "\"sshKeys\":[\"" + h.publicKey + "\"],\"userData\":\"\"}";
        String r = request(h, "PUT", "/agent/v1/vps/" + id, body);
        assertThat(r).as("create %s", hostname).startsWith("200 ");
        return r;
    }

    private String request(AgentHarness h, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.httpPort + path))
                .timeout(BOOT).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    private static String ip(String view) {
        Matcher m = IP.matcher(view);
        assertThat(m.find()).as("ip in %s", view).isTrue();
        return m.group(1);
    }

    private static int count(AgentHarness h, String what) {
        try {
            int n = 0;
            String all = Files.readString(h.agentLog());
            for (int i = all.indexOf(what); i >= 0; i = all.indexOf(what, i + what.length())) {
                n++;
            }
            return n;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static String log(AgentHarness h) throws Exception {
        return Files.readString(h.agentLog());
    }

    private static List<Path> snapshots(Path dir) {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".snap")).toList();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    private static String strictSsh(AgentHarness h, UUID id, String ip) throws Exception {
        Path knownHosts = h.stateDir.resolve("known_hosts-" + id);
        Files.writeString(knownHosts, ip + " " + Files.readString(
                h.stateDir.resolve("vps").resolve(id.toString()).resolve("ssh_host_ed25519_key.pub")));
        AgentHarness.Result r = AgentHarness.exec(Duration.ofMinutes(2), "ssh", "-i", h.key.toString(),
                "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=20", "root@" + ip, "echo strict-ok");
        return r.out().strip() + (r.status() == 0 ? "" : " " + r.err());
    }
}
