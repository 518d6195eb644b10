// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.testing.NetNs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link TapBackend} and {@link HostLinks} used the way a domain runner uses them: from a JVM started inside a
 * network namespace ({@link TapProbe} through {@link NetNs#startJava}), with a bridge there.
 */
class TapNetnsIT {

    @Test
    void failuresInsideANamespaceGiveClearErrors() throws Exception {
        try (NetNs ns = NetNs.create("err")) {
            ns.disableIpv6();
            ns.addBridge("br0");
            Map<String, String> out = probe(ns, "errors", "br0");
            String tap = out.get("opened");
            assertThat(tap).startsWith("pe");
            assertThat(out).containsEntry("exists", "true").containsEntry("exists-missing", "false")
                    .containsEntry("exists-after-close", "false");
            assertThat(out.get("busy")).isEqualTo("TUNSETIFF " + tap + ": Device or resource busy (EBUSY) (tap " + tap
                    + " is already attached to another descriptor)");
            assertThat(out.get("missing")).contains("nosuchbr0").contains("does not exist").contains(tap);
            assertThat(out.get("notbridge")).contains(tap + " exists but is not a bridge");
            assertThat(out.get("missing-tap")).contains("interface nosuchtap0 does not exist");
            assertThat(out.get("mtu-missing")).contains("nosuchbr0").contains("ip link set dev nosuchbr0 mtu 1400");
            assertThat(out.get("notatap")).startsWith("TUNSETIFF br0: Invalid argument (EINVAL)");
        }
    }

    @Test
    void tapsOpenedInsideANamespaceAttachToItsBridgeAndExchangeFrames() throws Exception {
        try (NetNs ns = NetNs.create("brg")) {
            ns.disableIpv6();
            ns.addBridge("br0");
            Map<String, String> out = probe(ns, "bridge", "br0", "1000");
            assertThat(out).containsEntry("master-a", "br0").containsEntry("master-b", "br0")
                    .containsEntry("a2b", "1000").containsEntry("b2a", "1000")
                    .containsEntry("master-a-after-detach", "none");
            assertThat(out.get("link-a")).contains("mtu 1400").contains("link/ether fe:ff:ff:ff:ff:ff")
                    .contains("master br0");
            assertThat(ns.ip("-o", "link").out()).as("taps gone with the probe").doesNotContain(" pa", " pb");
        }
    }

    @Test
    void withoutCapNetAdminTheErrorNamesTunsetiffAndEperm() throws Exception {
        try (NetNs ns = NetNs.create("cap")) {
            String tap = "pc" + ProcessHandle.current().pid();
            List<String> cmd = new java.util.ArrayList<>(List.of("setpriv", "--bounding-set=-net_admin",
                    "--inh-caps=-net_admin", "--"));
            cmd.addAll(NetNs.javaCommand(TapProbe.class, List.of(), List.of("open", tap)));
            Map<String, String> out = collect(ns.start(cmd));
            assertThat(out.get("open")).startsWith("TUNSETIFF " + tap + ": Operation not permitted (EPERM)");
        }
    }

    private static Map<String, String> probe(NetNs ns, String... args) throws IOException, InterruptedException {
        return collect(ns.startJava(TapProbe.class, List.of(args)));
    }

    private static Map<String, String> collect(Process p) throws IOException, InterruptedException {
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("probe exits").isTrue();
        assertThat(p.exitValue()).as("probe exit status; output:\n%s", text).isZero();
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0 && !line.startsWith(" ") && line.substring(0, colon).matches("[a-z0-9-]+")) {
                out.put(line.substring(0, colon), line.substring(colon + 2));
            }
        }
        assertThat(out).as("probe output:\n%s", text).containsEntry("done", "ok");
        return out;
    }
}
