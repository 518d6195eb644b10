// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The {@link NetNs} kit itself: creation, commands and processes inside, links, and cleanup on close. */
class NetNsIT {

    @Test
    void namespaceExistsWhileOpenAndIsGoneAfterClose() {
        String name;
        try (NetNs ns = NetNs.create("life")) {
            name = ns.name();
            assertThat(NetNs.exists(name)).isTrue();
            assertThat(NetNs.runCommand(List.of("ip", "netns", "list")).out()).contains(name);
            assertThat(ns.ip("-o", "link", "show", "dev", "lo").out()).contains("UP");
        }
        assertThat(NetNs.exists(name)).isFalse();
        assertThat(NetNs.runCommand(List.of("ip", "netns", "list")).out()).doesNotContain(name);
    }

    @Test
    void namespaceIsRemovedWhenTheTestBodyFails() {
        AtomicReference<String> name = new AtomicReference<>();
        assertThatThrownBy(() -> {
            try (NetNs ns = NetNs.create("fail")) {
                name.set(ns.name());
                ns.addBridge("br0");
                throw new AssertionError("test body failed");
            }
        }).isInstanceOf(AssertionError.class).hasMessage("test body failed");
        assertThat(name.get()).isNotNull();
        assertThat(NetNs.exists(name.get())).isFalse();
    }

    @Test
    void commandsAndJvmsRunInsideTheNamespace() throws Exception {
        String own = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        try (NetNs ns = NetNs.create("exec")) {
            String inside = ns.run("readlink", "/proc/self/ns/net").text();
            assertThat(inside).startsWith("net:[").isNotEqualTo(own);
            assertThat(ns.exec("false").exit()).isEqualTo(1);
            assertThatThrownBy(() -> ns.run("sh", "-c", "echo oops >&2; exit 3"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("oops");

            Process jvm = ns.startJava(NsProbe.class, List.of());
            String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(jvm.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(out).contains("netns: " + inside);
        }
    }

    @Test
    void closeKillsEveryProcessLeftInTheNamespace() throws Exception {
        String name;
        Process tracked;
        Set<Long> pids;
        try (NetNs ns = NetNs.create("kill")) {
            name = ns.name();
            tracked = ns.start(List.of("sleep", "600"));
            // A daemonised process the kit did not start itself: found through `ip netns pids`.
            ns.run("sh", "-c", "setsid sleep 601 </dev/null >/dev/null 2>&1 &");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            pids = ns.pids();
            while (pids.size() < 2) {
                assertThat(System.nanoTime()).as("both sleeps running in the namespace").isLessThan(deadline);
                Thread.sleep(20);
                pids = ns.pids();
            }
        }
        assertThat(tracked.isAlive()).isFalse();
        for (long pid : pids) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid %d", pid).isFalse();
        }
        assertThat(NetNs.exists(name)).isFalse();
    }

    @Test
    void vethPairsJoinNamespacesAndVanishWithThem() throws Exception {
        String callerEnd = "dxv" + (ProcessHandle.current().pid() % 100_000);
        try (NetNs a = NetNs.create("va"); NetNs b = NetNs.create("vb")) {
            a.vethTo("eth0", b, "eth1");
            assertThat(a.ip("-o", "link", "show", "dev", "eth0").out()).contains("eth0@");
            assertThat(b.ip("-o", "link", "show", "dev", "eth1").out()).contains("eth1@");
            a.addBridge("br0");
            a.attach("eth0", "br0");
            assertThat(a.masterOf("eth0")).contains("br0");
            assertThat(a.mac("eth0")).matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}");

            b.vethToCaller("up0", callerEnd);
            assertThat(NetNs.runCommand(List.of("ip", "-o", "link", "show", "dev", callerEnd)).exit()).isZero();
            a.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (b.exec("ip", "link", "show", "dev", "eth1").exit() == 0) {
                assertThat(System.nanoTime()).as("peer deleted with a (the kernel does it asynchronously)")
                        .isLessThan(deadline);
                Thread.sleep(20);
            }
        }
        assertThat(NetNs.runCommand(List.of("ip", "-o", "link", "show", "dev", callerEnd)).exit())
                .as("caller-side veth end deleted").isNotZero();
    }

    @Test
    void disableIpv6ChangesOnlyTheNamespace() throws Exception {
        Path rootFlag = Path.of("/proc/sys/net/ipv6/conf/all/disable_ipv6");
        String before = Files.readString(rootFlag).strip();
        try (NetNs ns = NetNs.create("v6")) {
            ns.disableIpv6();
            assertThat(ns.run("cat", rootFlag.toString()).text()).isEqualTo("1");
            assertThat(Files.readString(rootFlag).strip()).as("caller's namespace untouched").isEqualTo(before);
        }
    }

    @Test
    void badLabelsAreRefused() {
        assertThatThrownBy(() -> NetNs.create("has space")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("label");
    }
}
