// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The platform's management network, made with {@code ip}: a bridge in the root namespace carrying the services'
 * address, and per host a network namespace joined to it by a veth pair, with a route from the root namespace to
 * the host's VPS subnet (so a VPS is reachable by SSH from the root namespace). Every name starts with the
 * platform's prefix, so {@link #cleanup} can remove what a crashed run left behind.
 */
final class Netns {

    /** The outcome of a short command. */
    record Result(int status, String out, String err) {
        boolean ok() {
            return status == 0;
        }
    }

    private Netns() {
    }

    static String bridge(String prefix) {
        return prefix + "-mgmt";
    }

    static String namespace(String prefix, int host) {
        return prefix + "-h" + host;
    }

    static String vethRoot(String prefix, int host) {
        return prefix + "-h" + host + "m";
    }

    /** Creates the bridge with {@code address} (e.g. {@code 10.200.0.1/24}); fails if it exists. */
    static void createBridge(String prefix, String address) {
        String br = bridge(prefix);
        must("ip", "link", "add", br, "type", "bridge");
        must("ip", "addr", "add", address, "dev", br);
        must("ip", "link", "set", br, "up");
    }

    /**
     * A namespace for host {@code i}: loopback up, {@code mgmt0} with {@code nsAddress} (prefix included), default
     * route via {@code gateway}, IPv4 forwarding on inside it (per namespace; the root namespace is not touched),
     * and a route in the root namespace to {@code vpsNet} through the namespace.
     */
    static void createHost(String prefix, int i, String nsAddress, String gateway, String vpsNet) {
        String ns = namespace(prefix, i);
        String veth = vethRoot(prefix, i);
        must("ip", "netns", "add", ns);
        must("ip", "link", "add", veth, "type", "veth", "peer", "name", "mgmt0", "netns", ns);
        must("ip", "link", "set", veth, "master", bridge(prefix));
        must("ip", "link", "set", veth, "up");
        must("ip", "-n", ns, "link", "set", "lo", "up");
        must("ip", "-n", ns, "addr", "add", nsAddress, "dev", "mgmt0");
        must("ip", "-n", ns, "link", "set", "mgmt0", "up");
        must("ip", "-n", ns, "route", "add", "default", "via", gateway);
        must("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        String nsIp = nsAddress.substring(0, nsAddress.indexOf('/'));
        must("ip", "route", "replace", vpsNet, "via", nsIp);
    }

    /** Namespaces of this prefix that exist now. */
    static List<String> namespaces(String prefix) {
        List<String> out = new ArrayList<>();
        for (String line : run("ip", "netns", "list").out().split("\n")) {
            String name = line.strip().split(" ")[0];
            if (name.startsWith(prefix + "-h")) {
                out.add(name);
            }
        }
        return out;
    }

    /**
     * Removes everything of this prefix: SIGKILL to every process still inside its namespaces (agents, domain
     * runners), the namespaces (their veth ends, taps and VPS bridges go with them), the bridge and the routes to
     * the VPS subnets. Safe when nothing exists.
     */
    static List<String> cleanup(String prefix, List<String> vpsNets) {
        List<String> removed = new ArrayList<>();
        for (String ns : namespaces(prefix)) {
            for (String pid : run("ip", "netns", "pids", ns).out().split("\\s+")) {
                if (!pid.isBlank()) {
                    ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            waitEmpty(ns);
            if (run("ip", "netns", "del", ns).ok()) {
                removed.add(ns);
            }
        }
        for (String net : vpsNets) {
            run("ip", "route", "del", net);
        }
        // Root ends of the veths go with their peers; a leftover one (namespace already gone) is removed here.
        for (String line : run("ip", "-o", "link", "show").out().split("\n")) {
            String[] f = line.split(":\\s+");
            if (f.length > 1) {
                String name = f[1].split("@")[0];
                if (name.equals(bridge(prefix)) || name.matches(java.util.regex.Pattern.quote(prefix) + "-h\\d+m")) {
                    run("ip", "link", "del", name);
                    removed.add(name);
                }
            }
        }
        return removed;
    }

    private static void waitEmpty(String ns) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && !run("ip", "netns", "pids", ns).out().isBlank()) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Whether a route of the root namespace touches {@code prefix16} (e.g. {@code 10.200}). */
    static boolean subnetInUse(String prefix16) {
        String routes = run("ip", "-4", "route", "show").out() + run("ip", "-4", "-o", "addr", "show").out();
        return routes.contains(" " + prefix16 + ".") || routes.startsWith(prefix16 + ".")
                || routes.contains("\n" + prefix16 + ".");
    }

    /** Whether {@code tool} is an executable on PATH (or an absolute path). */
    static boolean onPath(String tool) {
        if (tool.startsWith("/")) {
            return Files.isExecutable(Path.of(tool));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static void must(String... cmd) {
        Result r = run(cmd);
        if (!r.ok()) {
            throw new StackException("network", StackException.Code.START_FAILED,
                    String.join(" ", cmd) + " failed (exit " + r.status() + "): " + r.err().strip());
        }
    }

    static Result run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "", String.join(" ", cmd) + ": timed out after 60 s");
            }
            return new Result(p.exitValue(), out.get(), err.get());
        } catch (IOException e) {
            return new Result(-1, "", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "", "interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            return new Result(-1, "", e.getMessage());
        }
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
