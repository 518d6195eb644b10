// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio;

import dev.domus.xen.testing.StreamCapture;
import dev.domus.xen.testing.XlRunner;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.testing.NetNs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-net end to end, inside a network namespace the test creates and removes: two domains (root disks with
 * dropbear, {@code vif = ['bridge=br0,...']}) are started by {@code xl} running in the namespace, so their runners
 * open their taps there and attach them to the bridge; one pings the other, and the host side of the bridge logs
 * in to both with SSH key authentication and runs commands.
 */
class NetworkIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("domus.it.timeout.seconds", 900));

    @TempDir
    Path tmp;

    @Test
    void twoDomainsOnOneBridgePingEachOtherAndTheHostLogsInWithSsh() throws Exception {
        Path guest = XlDriver.guestDir();
        Path key = tmp.resolve("id_ed25519");
        XlRunner.Result kg = XlDriver.run(Duration.ofMinutes(1), List.of("ssh-keygen", "-q", "-t", "ed25519", "-N",
                "", "-C", "it@domus", "-f", key.toString()), Map.of(), null);
        assertThat(kg.status()).as("ssh-keygen: %s", kg.err()).isZero();
        String pub64 = Base64.getEncoder().encodeToString(Files.readString(key.resolveSibling("id_ed25519.pub"))
                .strip().getBytes(StandardCharsets.UTF_8));

        try (NetNs ns = NetNs.create("vnet");
             XlDriver xl = new XlDriver(tmp.resolve("run"), ns.name())) {
            ns.addBridge("br0");
            ns.addAddress("br0", "10.77.0.1/24");
            List<StreamCapture> consoles = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                String name = "net-it-" + i;
                xl.owns(name);
                Path root = tmp.resolve("root" + i + ".ext4");
                assertThat(new ProcessBuilder("cp", "--sparse=always", guest.resolve("rootfs.ext4").toString(),
                        root.toString()).inheritIO().start().waitFor()).isZero();
                Path cfg = tmp.resolve(name + ".cfg");
                Files.writeString(cfg, "name = '" + name + "'\nmemory = 256\nvcpus = 1\n"
                        + "kernel = '" + guest.resolve("Image") + "'\n"
                        + "extra = 'console=ttyS0 root=/dev/vda rw domus.ip=10.77.0.1" + i + "/24"
                        + " domus.hostname=" + name + " domus.sshkey64=" + pub64 + "'\n"
                        + "disk = [ '" + root + ",rw,vda' ]\n"
                        + "vif = [ 'bridge=br0,mac=52:54:00:77:00:1" + i + ",vifname=vnet-it" + i + "' ]\n"
                        + "on_poweroff = 'destroy'\non_reboot = 'destroy'\non_crash = 'destroy'\n");
                XlRunner.Result create = xl.xl(Duration.ofMinutes(10), "create", "-p", cfg.toString());
                assertThat(create.status()).as("xl create: %s", create.err()).isZero();
                Process console = xl.start("console", name);
                StreamCapture out = StreamCapture.of(console.getInputStream());
                StreamCapture err = StreamCapture.of(console.getErrorStream());
                assertThat(err.awaitContains("Connected to domain", Duration.ofMinutes(2))).as("%s", err).isTrue();
                assertThat(xl.xl(Duration.ofMinutes(2), "unpause", name).status()).isZero();
                consoles.add(out);
            }
            assertThat(ns.exec("ip", "link", "show", "master", "br0").out()).contains("vnet-it1", "vnet-it2");
            for (StreamCapture c : consoles) {
                assertThat(c.awaitContains("DOMUS-GUEST-READY", TIMEOUT)).as("guest console:%n%s", c).isTrue();
            }

            String ping = ssh(ns, key, "10.77.0.11", "ping -c 3 -W 10 10.77.0.12 && echo PING-DONE");
            assertThat(ping).contains("PING-DONE", "3 packets received");
            String who = ssh(ns, key, "10.77.0.12", "echo LOGGED-IN-$(hostname)-$((6*7))");
            assertThat(who).contains("LOGGED-IN-net-it-2-42");
        }
        assertThat(Files.list(Path.of("/run/netns")).map(Path::toString).filter(n -> n.contains("-vnet")).toList())
                .as("namespace removed").isEmpty();
    }

    /** Runs {@code command} on the guest over SSH from the namespace, retrying while dropbear is not up yet. */
    private static String ssh(NetNs ns, Path key, String ip, String command) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        NetNs.Result r;
        do {
            r = ns.exec("ssh", "-i", key.toString(), "-o", "StrictHostKeyChecking=no", "-o",
                    "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
                    "-o", "LogLevel=ERROR", "root@" + ip, command);
            if (r.exit() == 0) {
                return r.out();
            }
            Thread.sleep(2000); // dropbear may still be generating its host key: poll again
        } while (System.nanoTime() < deadline);
        throw new AssertionError("ssh root@" + ip + " failed: exit " + r.exit() + " " + r.out() + " " + r.err());
    }
}
