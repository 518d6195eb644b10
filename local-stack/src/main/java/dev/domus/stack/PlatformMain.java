// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code StackMain platform ...} (what {@code deploy/up} runs): starts the {@link Platform}, seeds the demo, prints
 * URLs, credentials and how to reach a VPS, writes {@code platform.env} and {@code platform.pid} into the state
 * directory, then stays in the foreground until SIGTERM/SIGINT and stops everything. Exit codes: 0 stopped on a
 * signal, 1 start failed, 2 bad usage.
 */
final class PlatformMain {

    static final String USAGE = """
            usage: StackMain platform --state-dir DIR --control-plane-jar JAR --agent-jar JAR --guest-dir DIR
                                      [--hosts N] [--prefix NAME] [--subnet 10.X] [--run-root DIR]
                                      [--api-port N] [--demo-vps] [--timeout SECONDS]
              --hosts     host agents, each in its own network namespace NAME-h1.. (default 1, at most 8)
              --prefix    names of namespaces/bridge/veths (default domus: domus-h1, domus-mgmt, domus-h1m)
              --subnet    a free 10.X.0.0/16 (default 10.200): services on 10.X.0.1, host i's VPSes on 10.X.i.0/24
              --api-port  control-plane port on 10.X.0.1 (default 8080)
              --demo-vps  create VPS "demo" for alice and wait until SSH works""";

    private PlatformMain() {
    }

    static int main(String[] argv, PrintStream out) {
        PlatformOptions o;
        boolean demoVps = false;
        try {
            Map<String, String> a = new LinkedHashMap<>();
            for (int i = 0; i < argv.length; i++) {
                String k = argv[i];
                if (k.equals("--demo-vps")) {
                    demoVps = true;
                    continue;
                }
                if (!k.startsWith("--") || i + 1 >= argv.length) {
                    throw new IllegalArgumentException(k.startsWith("--") ? k + " needs a value" : "unexpected: " + k);
                }
                a.put(k, argv[++i]);
            }
            for (String k : a.keySet()) {
                if (!java.util.List.of("--state-dir", "--control-plane-jar", "--agent-jar", "--guest-dir", "--hosts",
                        "--prefix", "--subnet", "--run-root", "--api-port", "--timeout").contains(k)) {
                    throw new IllegalArgumentException("unknown option: " + k);
                }
            }
            o = new PlatformOptions(Path.of(required(a, "--state-dir")), number(a, "--hosts", 1),
                    a.getOrDefault("--prefix", "domus"), a.getOrDefault("--subnet", "10.200"),
                    Path.of(required(a, "--control-plane-jar")), Path.of(required(a, "--agent-jar")),
                    Path.of(required(a, "--guest-dir")), Path.of(a.getOrDefault("--run-root", "/run/domus/platform")),
                    number(a, "--api-port", 8080), Duration.ofSeconds(number(a, "--timeout", 540)));
        } catch (IllegalArgumentException e) {
            System.err.println("domus-platform: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        return run(o, demoVps, out);
    }

    private static String required(Map<String, String> a, String k) {
        String v = a.get(k);
        if (v == null) {
            throw new IllegalArgumentException(k + " is required");
        }
        return v;
    }

    private static int number(Map<String, String> a, String k, int def) {
        String v = a.get(k);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(k + " must be a number, got " + v);
        }
    }

    private static int run(PlatformOptions o, boolean demoVps, PrintStream out) {
        Path d = o.stateDir();
        CountDownLatch signalled = new CountDownLatch(1);
        Object lock = new Object();
        Platform[] holder = new Platform[1];
        Thread hook = new Thread(() -> {
            signalled.countDown();
            synchronized (lock) {
                if (holder[0] != null) {
                    holder[0].close();
                }
            }
            cleanFiles(d);
        }, "domus-platform-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Files.createDirectories(d);
            Files.deleteIfExists(d.resolve("platform.env"));
            Files.writeString(d.resolve("platform.pid"), ProcessHandle.current().pid() + "\n");
            Platform p = Platform.start(o, out);
            synchronized (lock) {
                holder[0] = p;
            }
            PlatformDemo demo = new PlatformDemo(p);
            PlatformDemo.Seed seed = demo.seed(d);
            out.println("demo seeded: organization demo (" + seed.organizationId() + "), project default ("
                    + seed.projectId() + ")");
            PlatformDemo.DemoVps vps = null;
            if (demoVps) {
                out.println("creating demo VPS and waiting until SSH works ...");
                out.flush();
                vps = demo.demoVps(seed, o.startTimeout());
            }
            writeEnv(p, seed, vps);
            summary(out, p, seed, vps);
            watch(p, signalled);
            return 0;
        } catch (StackException e) {
            System.err.println("domus-platform: " + e.oneLine());
            if (!e.detail().isEmpty()) {
                System.err.print(e.detail());
            }
            return 1;
        } catch (IOException | RuntimeException e) {
            System.err.println("domus-platform: " + e);
            return 1;
        } finally {
            synchronized (lock) {
                if (holder[0] != null) {
                    holder[0].close();
                }
            }
            cleanFiles(d);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Shutting down on a signal: the hook does the stop.
            }
        }
    }

    /** Reports (once) a process that died on its own; a dead agent is left for the operator (or a test) to see. */
    private static void watch(Platform p, CountDownLatch signalled) {
        String reported = "";
        try {
            while (!signalled.await(2, TimeUnit.SECONDS)) {
                String dead = p.deadService().orElse("");
                if (!dead.isEmpty() && !dead.equals(reported)) {
                    System.err.println("domus-platform: " + dead + " exited on its own (logs under "
                            + p.options().stateDir() + ")");
                    reported = dead;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void cleanFiles(Path d) {
        for (String f : java.util.List.of("platform.env", "platform.pid")) {
            try {
                Files.deleteIfExists(d.resolve(f));
            } catch (IOException e) {
                // deploy/up checks that the pid is alive before trusting it
            }
        }
    }

    private static void writeEnv(Platform p, PlatformDemo.Seed s, PlatformDemo.DemoVps vps) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DOMUS_API_URL", p.apiUrl());
        env.put("DOMUS_OIDC_ISSUER", p.issuer());
        env.put("DOMUS_OIDC_TOKEN_URL", p.tokenUrl());
        env.put("DOMUS_KAFKA_BOOTSTRAP_SERVERS", p.kafka().bootstrapServers());
        env.put("DOMUS_DEMO_ORGANIZATION_ID", s.organizationId());
        env.put("DOMUS_DEMO_PROJECT_ID", s.projectId());
        env.put("DOMUS_DEMO_TOKEN", s.token());
        env.put("DOMUS_DEMO_SSH_KEY", s.sshKey().toString());
        StringBuilder hosts = new StringBuilder();
        for (PlatformHost h : p.hosts()) {
            String k = "DOMUS_HOST_" + h.name().toUpperCase(java.util.Locale.ROOT);
            env.put(k + "_ID", h.id().toString());
            env.put(k + "_NETNS", h.namespace());
            env.put(k + "_AGENT_URL", h.agentUrl());
            env.put(k + "_VPS_GATEWAY", h.vpsGateway());
            hosts.append(hosts.isEmpty() ? "" : " ").append(h.name());
        }
        env.put("DOMUS_HOSTS", hosts.toString());
        if (vps != null) {
            env.put("DOMUS_DEMO_VPS_ID", vps.id());
            env.put("DOMUS_DEMO_VPS_IP", vps.ip());
        }
        p.pids().forEach((name, pid) -> env.put("DOMUS_PID_" + name.toUpperCase(java.util.Locale.ROOT)
                .replaceAll("[^A-Z0-9]", "_"), Long.toString(pid)));
        StringBuilder sb = new StringBuilder("# Written by dev.domus.stack.PlatformMain; removed when it stops.\n");
        env.forEach((k, v) -> sb.append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
        Path d = p.options().stateDir();
        Path tmp = d.resolve("platform.env.tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, d.resolve("platform.env"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void summary(PrintStream out, Platform p, PlatformDemo.Seed s, PlatformDemo.DemoVps vps) {
        Map<String, String> users = p.realm().userPasswords();
        StringBuilder sb = new StringBuilder();
        sb.append("==> Domus platform running\n");
        sb.append("    API         : ").append(p.apiUrl()).append("/v1   (OpenAPI: ").append(p.apiUrl())
                .append("/q/openapi)\n");
        sb.append("    Keycloak    : ").append(p.issuer()).append("   (admin console: admin / admin)\n");
        sb.append("    Kafka       : ").append(p.kafka().bootstrapServers()).append('\n');
        users.forEach((u, pw) -> sb.append("    user        : ").append(u).append(" / ").append(pw).append('\n'));
        sb.append("    demo token  : ").append(s.token()).append("   (alice, project default ").append(s.projectId())
                .append(")\n");
        for (PlatformHost h : p.hosts()) {
            sb.append("    host ").append(h.name()).append("     : netns ").append(h.namespace()).append(", agent ")
                    .append(h.agentUrl()).append(", VPS net ").append(h.vpsGateway()).append('\n');
        }
        sb.append("    try         : curl -s -H \"Authorization: Bearer ").append(s.token()).append("\" ")
                .append(p.apiUrl()).append("/v1/projects/").append(s.projectId()).append("/vps\n");
        if (vps != null) {
            sb.append("    demo VPS    : ").append(vps.id()).append(" on ").append(vps.host().name()).append(" at ")
                    .append(vps.ip()).append('\n');
            sb.append("    ssh         : ssh -i ").append(s.sshKey()).append(" root@").append(vps.ip())
                    .append("   (or: ip netns exec ").append(vps.host().namespace()).append(" ssh -i ")
                    .append(s.sshKey()).append(" root@").append(vps.ip()).append(")\n");
        } else {
            sb.append("    ssh         : create a VPS with the key \"demo\" (deploy/up --demo-vps does it), then\n")
                    .append("                  ssh -i ").append(s.sshKey())
                    .append(" root@<address from the agent: curl <agent>/agent/v1/vps>\n");
        }
        sb.append("    state, logs : ").append(p.options().stateDir()).append("   (settings: platform.env)\n");
        sb.append("    stop        : deploy/down   (keeps data; deploy/down --purge deletes it)\n");
        out.print(sb);
        out.flush();
    }
}
