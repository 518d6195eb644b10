// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.it;

import static dev.domus.agent.it.AgentHarness.group;
import static dev.domus.agent.it.AgentHarness.isState;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostCommandType;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostEventType;
import dev.domus.api.events.VpsSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * One VPS through its whole life on a real agent process, driven by host commands on Kafka: create -> SSH
 * {@code uname -m}; a re-sent command changes nothing (its outcome is answered again, same event id); kill -9 of
 * the runner and a guest panic -> restarted with events; kill -9 of the agent -> the domain keeps running and the
 * next agent adopts it (same runner, no duplicate); reboot, power off/on; delete frees disk and tap. One test so
 * the guest boots as few times as possible on a shared 2-core box. Also: the console WebSocket relay, and a late
 * create of a deleted VPS is refused. Resize and rebuild: {@link AgentResizeIT}.
 */
class AgentIT {
    // Generous: on the shared box guest boots took 25-150 s under load 24-30.
    private static final Duration BOOT = Duration.ofMinutes(8);
    private static final Pattern PID = Pattern.compile("\"runnerPid\":(\\d+)");
    private static final Pattern IP = Pattern.compile("\"ip\":\"([0-9.]+)/");

    @Test
    void vpsLifecycleCrashRestartAndAdoption() throws Exception {
        try (AgentHarness h = new AgentHarness("lifecycle")) {
            h.startAgent();
            UUID vps = UUID.randomUUID();
            String domain = "vps-" + vps;
            // Everything the guest needs travels on the config drive (no domus.* kernel parameters): both keys,
            // hostname, address, host key and a user-data script that must run once per instance.
            String otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther second@it";
            VpsSpec spec = new VpsSpec("web-1", 1, 256, 1, "demo", List.of(h.publicKey, otherKey),
                    "#!/bin/sh\necho ran >> /root/user-data-runs\nsync\ntouch /run/user-data-synced\n");

            // --- create through Kafka, then SSH with the key
            long t0 = System.nanoTime();
            HostCommand create = command(h, HostCommandType.CREATE, vps, 1, Optional.of(spec));
            h.send(create);
            h.awaitEvent("create succeeded", BOOT, e -> isAction(e, create, HostEventType.ACTION_SUCCEEDED));
            String view = h.get("/agent/v1/vps/" + vps);
            assertThat(view).startsWith("200 ").contains("\"state\":\"running\"");
            String ip = group(IP, view);
            assertThat(h.ssh(ip, "uname -m", BOOT).out().strip()).isEqualTo("riscv64");
            System.out.printf("create-to-ssh: %.2f s%n", (System.nanoTime() - t0) / 1e9);
            System.out.println("guest boot log: " + h.ssh(ip, "cut -d' ' -f1 /proc/uptime; dmesg | tail -3", BOOT).out());
            Path vpsDir = h.stateDir.resolve("vps").resolve(vps.toString());
            assertThat(vpsDir.resolve("root.img")).exists();
            assertThat(Files.size(vpsDir.resolve("root.img"))).isEqualTo(1L << 30);
            assertThat(h.ssh(ip, "df -k / | tail -1", BOOT).out()).as("root fs resized to the plan")
                    .matches("(?s).*\\s(9\\d{5}|1\\d{6})\\s.*");
            assertThat(h.ssh(ip, "hostname", BOOT).out().strip()).isEqualTo("web-1");
            assertThat(h.ssh(ip, "cat /proc/cmdline", BOOT).out()).doesNotContain("domus.");
            assertThat(h.ssh(ip, "cat /root/.ssh/authorized_keys", BOOT).out()).contains(h.publicKey, otherKey);
            AgentHarness.await("user data ran", Duration.ofMinutes(2), () -> {
                try {
                    // Only once the file is on disk: the runner kill below must not lose it (the guest gets no chance to sync).
                    return h.ssh(ip, "test -e /run/user-data-synced && cat /root/user-data-runs", Duration.ofSeconds(30))
                            .out().strip().equals("ran");
                } catch (Exception | AssertionError e) {
                    return false;
                }
            });
            assertThat(h.ssh(ip, "cat /var/lib/domus/user-data.done", BOOT).out().strip()).isEqualTo(vps.toString());
            // The guest presents the host key the agent generated for it (strict checking against that key only).
            Path knownHosts = h.stateDir.resolve("known_hosts-" + vps);
            Files.writeString(knownHosts, ip + " " + Files.readString(
                    h.stateDir.resolve("vps").resolve(vps.toString()).resolve("ssh_host_ed25519_key.pub")));
            AgentHarness.Result strict = AgentHarness.exec(Duration.ofMinutes(2), "ssh", "-i", h.key.toString(),
                    "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "BatchMode=yes",
                    "-o", "ConnectTimeout=20", "root@" + ip, "echo strict-ok");
            assertThat(strict.out().strip()).as("ssh with the agent's host key: %s", strict.err()).isEqualTo("strict-ok");
            String tap = "dt" + vps.toString().replace("-", "").substring(0, 12);
            assertThat(Path.of("/sys/class/net", tap)).exists();
            long pid1 = Long.parseLong(group(PID, view));

            // --- heartbeat utilization: the running VPS with its runner's memory and guest size
            HostEvent hb = h.awaitEvent("heartbeat with this VPS's utilization", Duration.ofMinutes(2),
                    e -> e.type() == HostEventType.HOST_HEARTBEAT && e.utilization().isPresent()
                            && e.utilization().get().vps().stream().anyMatch(v -> v.vpsId().equals(vps)));
            var u = hb.utilization().orElseThrow();
            var mine = u.vps().stream().filter(v -> v.vpsId().equals(vps)).findFirst().orElseThrow();
            assertThat(mine.memoryMb()).isEqualTo(256);
            assertThat(mine.rssBytes()).as("runner RSS").isGreaterThan(32L << 20);
            assertThat(u.allocatedMemoryMb()).isGreaterThanOrEqualTo(256);
            assertThat(u.memoryMb()).isPositive();
            System.out.printf("heartbeat utilization: vps cpu=%.1f%% rss=%d MiB; host cpu=%.1f%% alloc=%d MiB of %d MiB%n",
                    mine.cpuPercent(), mine.rssBytes() >> 20, u.cpuPercent(), u.allocatedMemoryMb(), u.memoryMb());

            // --- console relay: the WebSocket replays recent output and types into the guest's shell
            StringBuffer console = new StringBuffer();
            java.net.http.WebSocket ws = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(java.net.URI.create("ws://127.0.0.1:" + h.httpPort + "/agent/v1/vps/" + vps + "/console"),
                            new java.net.http.WebSocket.Listener() {
                                @Override
                                public java.util.concurrent.CompletionStage<?> onBinary(java.net.http.WebSocket w,
                                        java.nio.ByteBuffer data, boolean last) {
                                    console.append(java.nio.charset.StandardCharsets.UTF_8.decode(data));
                                    w.request(1);
                                    return null;
                                }

                                @Override
                                public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket w,
                                        CharSequence data, boolean last) {
                                    console.append(data);
                                    w.request(1);
                                    return null;
                                }
                            }).get(60, java.util.concurrent.TimeUnit.SECONDS);
            AgentHarness.await("console replay", Duration.ofMinutes(1), () -> console.indexOf("DOMUS-GUEST-READY") >= 0);
            ws.sendText("echo CONSOLE-$((6*7))\n", true).get(30, java.util.concurrent.TimeUnit.SECONDS);
            AgentHarness.await("console echo, got: " + console, Duration.ofMinutes(1),
                    () -> console.indexOf("CONSOLE-42") >= 0);
            ws.abort();

            // --- the same command again (redelivery) and a second create: still one runner
            h.send(create);
            HostCommand create2 = command(h, HostCommandType.CREATE, vps, 1, Optional.of(spec));
            h.send(create2);
            h.awaitEvent("second create succeeded", BOOT, e -> isAction(e, create2, HostEventType.ACTION_SUCCEEDED));
            assertThat(AgentHarness.runners(domain)).hasSize(1);
            assertThat(group(PID, h.get("/agent/v1/vps/" + vps))).isEqualTo(Long.toString(pid1));
            // The re-sent command was not applied again, but answered again with the same outcome event (same id):
            // the control plane re-publishes commands it has no answer for and dedupes events by id.
            AgentHarness.await("outcome of the re-sent create sent again", Duration.ofMinutes(2),
                    () -> h.events.stream().filter(e -> isAction(e, create, HostEventType.ACTION_SUCCEEDED)).count() >= 2);
            assertThat(h.events.stream().filter(e -> isAction(e, create, HostEventType.ACTION_SUCCEEDED))
                    .map(HostEvent::eventId).distinct()).hasSize(1);

            // --- kill -9 of the domain runner: restarted, events say so
            ProcessHandle.of(pid1).orElseThrow().destroyForcibly();
            h.awaitEvent("crash event after runner kill", BOOT, e -> isState(e, vps, "domain_crashed")
                    && e.errorMessage().orElse("").contains("runner died"));
            HostEvent restarted = h.awaitEvent("restart event", BOOT, e -> isState(e, vps, "domain_restarted"));
            assertThat(restarted.vpsState()).contains("running");
            long pid2 = Long.parseLong(group(PID, h.get("/agent/v1/vps/" + vps)));
            assertThat(pid2).isNotEqualTo(pid1);
            assertThat(h.ssh(ip, "uname -m", BOOT).out().strip()).isEqualTo("riscv64");

            // --- guest panic: crash event with the machine's reason, restarted
            int before = h.events.size();
            // The connection dies with the kernel: do not wait for its result, wait for the events.
            AgentHarness.exec(Duration.ofSeconds(20), "ssh", "-i", h.key.toString(), "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                    "root@" + ip, "echo c > /proc/sysrq-trigger");
            h.awaitEvent("guest crash event", BOOT, e -> h.events.indexOf(e) >= before
                    && isState(e, vps, "domain_crashed") && e.errorMessage().orElse("").contains("guest crashed"));
            h.awaitEvent("restart after panic", BOOT, e -> h.events.indexOf(e) >= before
                    && isState(e, vps, "domain_restarted"));
            assertThat(h.ssh(ip, "uname -m", BOOT).out().strip()).isEqualTo("riscv64");
            long pid3 = Long.parseLong(group(PID, h.get("/agent/v1/vps/" + vps)));

            // --- kill -9 of the agent: the domain keeps running; a new agent adopts it
            Path templates = h.stateDir.resolve("templates");
            AgentHarness.await("template of the VPS's image saved", BOOT, () -> {
                try (var files = Files.list(templates)) {
                    return files.anyMatch(f -> f.getFileName().toString().endsWith(".snap"));
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            h.killAgent();
            assertThat(ProcessHandle.of(pid3)).isPresent().get().matches(ProcessHandle::isAlive);
            assertThat(h.ssh(ip, "echo alive", BOOT).out().strip()).isEqualTo("alive");
            h.startAgent();
            String adopted = h.get("/agent/v1/vps/" + vps);
            assertThat(adopted).contains("\"state\":\"running\"");
            assertThat(group(PID, adopted)).isEqualTo(Long.toString(pid3));
            assertThat(AgentHarness.runners(domain)).hasSize(1);
            // The idle standby ended with the old agent: the new one warms one up for the template this VPS uses.
            AgentHarness.await("pool primed by the new agent", BOOT, () -> {
                try {
                    return Files.readString(h.agentLog()).contains("event=runner_pool_ready");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertThat(Files.readString(h.agentLog())).contains("event=runner_pool_prime");

            // --- reboot through a command: the same runner rebuilds the machine
            int uptimeBefore = Integer.parseInt(h.ssh(ip, "cut -d. -f1 /proc/uptime", BOOT).out().strip());
            HostCommand reboot = command(h, HostCommandType.REBOOT, vps, 2, Optional.empty());
            h.send(reboot);
            h.awaitEvent("reboot succeeded", BOOT, e -> isAction(e, reboot, HostEventType.ACTION_SUCCEEDED));
            AgentHarness.await("guest rebooted (uptime reset)", BOOT, () -> {
                try {
                    String up = h.ssh(ip, "cut -d. -f1 /proc/uptime", Duration.ofSeconds(30)).out().strip();
                    return Integer.parseInt(up) < uptimeBefore;
                } catch (Exception | AssertionError e) {
                    return false;
                }
            });

            // Restarts (runner kill, panic) and the reboot did not run the user data again: once per instance.
            assertThat(h.ssh(ip, "cat /root/user-data-runs", BOOT).out().strip()).isEqualTo("ran");

            // --- power off, then on
            HostCommand off = command(h, HostCommandType.POWER_OFF, vps, 3, Optional.empty());
            h.send(off);
            h.awaitEvent("power off succeeded", BOOT, e -> isAction(e, off, HostEventType.ACTION_SUCCEEDED));
            assertThat(AgentHarness.runners(domain)).isEmpty();
            assertThat(h.get("/agent/v1/vps/" + vps)).contains("\"state\":\"off\"");
            HostCommand stale = command(h, HostCommandType.POWER_ON, vps, 2, Optional.empty());
            h.send(stale);
            h.awaitEvent("stale epoch rejected", BOOT, e -> isAction(e, stale, HostEventType.ACTION_FAILED)
                    && e.errorCode().orElse("").equals("stale_epoch"));
            assertThat(AgentHarness.runners(domain)).isEmpty();
            HostCommand on = command(h, HostCommandType.POWER_ON, vps, 4, Optional.empty());
            h.send(on);
            h.awaitEvent("power on succeeded", BOOT, e -> isAction(e, on, HostEventType.ACTION_SUCCEEDED));
            assertThat(h.ssh(ip, "uname -m", BOOT).out().strip()).isEqualTo("riscv64");

            // --- delete: runner, disk and tap gone
            HostCommand delete = command(h, HostCommandType.DELETE, vps, 5, Optional.empty());
            h.send(delete);
            h.awaitEvent("delete succeeded", BOOT, e -> isAction(e, delete, HostEventType.ACTION_SUCCEEDED));
            h.awaitEvent("deleted state", BOOT, e -> e.type() == HostEventType.VPS_STATE
                    && e.vpsId().equals(Optional.of(vps)) && e.vpsState().equals(Optional.of("deleted")));
            assertThat(AgentHarness.runners(domain)).isEmpty();
            assertThat(vpsDir).doesNotExist();
            assertThat(Path.of("/sys/class/net", tap)).doesNotExist();
            assertThat(h.get("/agent/v1/vps/" + vps)).startsWith("404 ");
            HostCommand late = command(h, HostCommandType.CREATE, vps, 9, Optional.of(spec));
            h.send(late);
            h.awaitEvent("late create of a deleted VPS refused", BOOT, e -> isAction(e, late, HostEventType.ACTION_FAILED)
                    && e.errorCode().orElse("").equals("bad_state"));
            assertThat(AgentHarness.runners(domain)).isEmpty();
            h.awaitEvent("heartbeat", Duration.ofMinutes(1), e -> e.type() == HostEventType.HOST_HEARTBEAT);

            // --- Kafka broker restart right after a create was sent: the create still completes, one VPS
            UUID vps2 = UUID.randomUUID();
            HostCommand create3 = command(h, HostCommandType.CREATE, vps2, 1,
                    Optional.of(new VpsSpec("web-2", 1, 256, 1, "demo", List.of(h.publicKey), "")));
            h.send(create3);
            h.kafka.restart();
            h.awaitEvent("create across a broker restart", BOOT,
                    e -> isAction(e, create3, HostEventType.ACTION_SUCCEEDED));
            String view2 = h.get("/agent/v1/vps/" + vps2);
            assertThat(h.ssh(group(IP, view2), "uname -m", BOOT).out().strip()).isEqualTo("riscv64");
            assertThat(AgentHarness.runners("vps-" + vps2)).hasSize(1);
            assertThat(h.get("/agent/v1/vps")).containsOnlyOnce("\"vpsId\"");
        }
    }

    private static HostCommand command(AgentHarness h, HostCommandType type, UUID vps, long epoch,
                                       Optional<VpsSpec> spec) {
        return HostCommand.of(type, h.hostId, vps, UUID.randomUUID(), epoch, spec, Optional.empty());
    }

    private static boolean isAction(HostEvent e, HostCommand c, HostEventType type) {
        return e.type() == type && e.actionId().equals(Optional.of(c.actionId()));
    }
}
