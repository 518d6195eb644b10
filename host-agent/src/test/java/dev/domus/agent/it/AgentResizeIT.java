// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.it;

import static dev.domus.agent.it.AgentHarness.group;
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
 * Resize and rebuild of one VPS on a real agent process, driven by host commands on Kafka as {@link AgentIT}: stop
 * -> resize to a bigger plan -> start, and the guest sees more vCPUs, memory and disk; then rebuild from the image:
 * a file written before is gone, while hostname, SSH host key, authorized keys and address stay. A resize of a
 * running VPS is refused ({@code bad_state}).
 */
class AgentResizeIT {
    // Generous: on the shared box guest boots took 25-150 s under load 24-30.
    private static final Duration BOOT = Duration.ofMinutes(8);
    private static final Pattern IP = Pattern.compile("\"ip\":\"([0-9.]+)/");

    @Test
    void resizeToABiggerPlanThenRebuild() throws Exception {
        try (AgentHarness h = new AgentHarness("resize")) {
            h.startAgent();
            UUID vps = UUID.randomUUID();
            VpsSpec small = new VpsSpec("grow-1", 1, 256, 1, "demo", List.of(h.publicKey), "");
            HostCommand create = command(h, HostCommandType.CREATE, vps, 1, Optional.of(small));
            h.send(create);
            h.awaitEvent("create succeeded", BOOT, e -> isAction(e, create, HostEventType.ACTION_SUCCEEDED));
            String ip = group(IP, h.get("/agent/v1/vps/" + vps));
            assertThat(h.ssh(ip, "nproc", BOOT).out().strip()).isEqualTo("1");
            long mem1 = memTotalKb(h, ip);
            long disk1 = rootKb(h, ip);
            assertThat(h.ssh(ip, "hostname", BOOT).out().strip()).isEqualTo("grow-1");
            // Written and synced before the rebuild, which must not keep it.
            h.ssh(ip, "echo before-rebuild > /root/marker && sync && cat /root/marker", BOOT);
            assertThat(h.ssh(ip, "cat /root/marker", BOOT).out().strip()).isEqualTo("before-rebuild");

            // --- a running VPS cannot be resized
            VpsSpec big = new VpsSpec("grow-1", 2, 384, 2, "demo", List.of(h.publicKey), "", Optional.of("s-2"),
                    Optional.empty(), Optional.empty(), Optional.empty());
            HostCommand early = command(h, HostCommandType.RESIZE, vps, 2, Optional.of(big));
            h.send(early);
            h.awaitEvent("resize of a running VPS refused", BOOT, e -> isAction(e, early, HostEventType.ACTION_FAILED)
                    && e.errorCode().orElse("").equals("bad_state"));

            // --- stop -> resize -> start: more vCPUs, memory and disk in the guest
            HostCommand off = command(h, HostCommandType.POWER_OFF, vps, 3, Optional.empty());
            h.send(off);
            h.awaitEvent("power off succeeded", BOOT, e -> isAction(e, off, HostEventType.ACTION_SUCCEEDED));
            HostCommand resize = command(h, HostCommandType.RESIZE, vps, 4, Optional.of(big));
            h.send(resize);
            h.awaitEvent("resize succeeded", BOOT, e -> isAction(e, resize, HostEventType.ACTION_SUCCEEDED));
            Path vpsDir = h.stateDir.resolve("vps").resolve(vps.toString());
            assertThat(Files.size(vpsDir.resolve("root.img"))).isEqualTo(2L << 30);
            assertThat(h.get("/agent/v1/vps/" + vps)).contains("\"state\":\"off\"");
            HostCommand on = command(h, HostCommandType.POWER_ON, vps, 5, Optional.empty());
            h.send(on);
            h.awaitEvent("power on succeeded", BOOT, e -> isAction(e, on, HostEventType.ACTION_SUCCEEDED));
            assertThat(h.ssh(ip, "nproc", BOOT).out().strip()).as("vCPUs after resize").isEqualTo("2");
            long mem2 = memTotalKb(h, ip);
            long disk2 = rootKb(h, ip);
            System.out.printf("resize: MemTotal %d -> %d KiB, root fs %d -> %d KiB%n", mem1, mem2, disk1, disk2);
            assertThat(mem2).as("MemTotal after resize").isGreaterThan(mem1 + (100L << 10));
            assertThat(disk2).as("root fs after resize").isGreaterThan(disk1 + (800L << 10));
            assertThat(h.ssh(ip, "cat /root/marker", BOOT).out().strip()).as("data kept by a resize")
                    .isEqualTo("before-rebuild");
            String hostKey = Files.readString(vpsDir.resolve("ssh_host_ed25519_key.pub"));

            // --- rebuild: a fresh root disk from the image; hostname, host key, keys and address stay
            HostCommand rebuild = command(h, HostCommandType.REBUILD, vps, 6, Optional.of(big));
            h.send(rebuild);
            h.awaitEvent("rebuild succeeded", BOOT, e -> isAction(e, rebuild, HostEventType.ACTION_SUCCEEDED));
            assertThat(group(IP, h.get("/agent/v1/vps/" + vps))).as("address kept").isEqualTo(ip);
            assertThat(Files.readString(vpsDir.resolve("ssh_host_ed25519_key.pub"))).isEqualTo(hostKey);
            Path knownHosts = h.stateDir.resolve("known_hosts-" + vps);
            Files.writeString(knownHosts, ip + " " + hostKey);
            AgentHarness.await("ssh after rebuild with the same host key", BOOT, () -> {
                try {
                    AgentHarness.Result r = AgentHarness.exec(Duration.ofMinutes(1), "ssh", "-i", h.key.toString(),
                            "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts,
                            "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "root@" + ip, "echo strict-ok");
                    return r.out().strip().equals("strict-ok");
                } catch (Exception e) {
                    return false;
                }
            });
            assertThat(h.ssh(ip, "test -e /root/marker && echo kept || echo gone", BOOT).out().strip())
                    .as("file written before the rebuild").isEqualTo("gone");
            assertThat(h.ssh(ip, "hostname", BOOT).out().strip()).isEqualTo("grow-1");
            assertThat(h.ssh(ip, "cat /root/.ssh/authorized_keys", BOOT).out()).contains(h.publicKey);
            assertThat(h.ssh(ip, "nproc", BOOT).out().strip()).as("plan kept by a rebuild").isEqualTo("2");
            assertThat(rootKb(h, ip)).as("root fs of the rebuilt disk").isGreaterThan(disk1 + (800L << 10));
            assertThat(AgentHarness.runners("vps-" + vps)).hasSize(1);
        }
    }

    private static long memTotalKb(AgentHarness h, String ip) throws Exception {
        String out = h.ssh(ip, "grep MemTotal /proc/meminfo", BOOT).out();
        return Long.parseLong(group(Pattern.compile("MemTotal:\\s+(\\d+)"), out));
    }

    /** Size of the root file system in KiB, as {@code df} reports it. */
    private static long rootKb(AgentHarness h, String ip) throws Exception {
        String line = h.ssh(ip, "df -k / | tail -1", BOOT).out().strip();
        return Long.parseLong(line.split("\\s+")[1]);
    }

    private static HostCommand command(AgentHarness h, HostCommandType type, UUID vps, long epoch,
                                       Optional<VpsSpec> spec) {
        return HostCommand.of(type, h.hostId, vps, UUID.randomUUID(), epoch, spec, Optional.empty());
    }

    private static boolean isAction(HostEvent e, HostCommand c, HostEventType type) {
        return e.type() == type && e.actionId().equals(Optional.of(c.actionId()));
    }
}
