// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A throw-away Linux network namespace for integration tests ("a host" in multi-host tests), removed on
 * {@link #close()}: processes started in it are killed (its own and any other pid still in the namespace), veth
 * ends it made in the caller's namespace are deleted, then {@code ip netns del}. Use it with try-with-resources;
 * a JVM shutdown hook closes any namespace a crashed test left open, and {@link #create} first removes namespaces
 * of earlier test JVMs that died before closing theirs (names carry the creating pid: {@code dx<pid>-<n>[-label]}).
 *
 * <pre>{@code
 * try (NetNs host = NetNs.create("a")) {
 *     host.addBridge("br0");
 *     host.adoptLink(tap.name());               // a tap opened in the test JVM moves in; its fd keeps working
 *     host.attach(tap.name(), "br0");
 *     Process runner = host.startJava(SomeMain.class, List.of("arg"));   // a JVM inside the namespace
 * }
 * }</pre>
 *
 * <p>The kit never changes the caller's namespace beyond interfaces it is asked to create or move (veth ends,
 * links handed to {@link #adoptLink}): no routes, addresses or sysctls outside the namespace. Every command has a
 * timeout; a failed one throws {@link IllegalStateException} with the command and its stderr.
 */
public final class NetNs implements AutoCloseable {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern OURS = Pattern.compile("dx(\\d+)-(\\d+)(-[A-Za-z0-9]*)?");
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Set<NetNs> OPEN = ConcurrentHashMap.newKeySet();
    private static final Object STALE_SWEEP = new Object();
    private static boolean sweptStale;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (NetNs ns : List.copyOf(OPEN)) {
                ns.close();
            }
        }, "netns-cleanup"));
    }

    private final String name;
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> callerSideLinks = Collections.synchronizedSet(new LinkedHashSet<>());
    private volatile boolean closed;

    private NetNs(String name) {
        this.name = name;
    }

    /** Result of a finished command. */
    public record Result(int exit, String out, String err) {
        /** Standard output with surrounding whitespace removed. */
        public String text() {
            return out.strip();
        }
    }

    /**
     * Creates a uniquely named namespace with its loopback up. {@code label} (0..8 of [A-Za-z0-9]) only makes the
     * name easier to recognise in {@code ip netns list}.
     */
    public static NetNs create(String label) {
        if (!label.matches("[A-Za-z0-9]{0,8}")) {
            throw new IllegalArgumentException("label must be 0..8 characters of [A-Za-z0-9], got \"" + label + "\"");
        }
        removeStale();
        long pid = ProcessHandle.current().pid();
        for (int attempt = 0; attempt < 100; attempt++) {
            String name = "dx" + pid + "-" + COUNTER.incrementAndGet() + (label.isEmpty() ? "" : "-" + label);
            if (exists(name)) {
                continue;
            }
            Result add = runCommand(List.of(ipBinary(), "netns", "add", name));
            if (add.exit() != 0) {
                if (exists(name)) {
                    continue;
                }
                throw new IllegalStateException("ip netns add " + name + " failed: " + errorText(add));
            }
            NetNs ns = new NetNs(name);
            OPEN.add(ns);
            try {
                ns.ip("link", "set", "dev", "lo", "up");
            } catch (RuntimeException e) {
                ns.close();
                throw e;
            }
            return ns;
        }
        throw new IllegalStateException("could not find a free network namespace name");
    }

    /** Whether a named network namespace (as {@code ip netns} sees them, under /run/netns) exists. */
    public static boolean exists(String name) {
        return Files.exists(Path.of("/run/netns", name));
    }

    /** The namespace's name, for {@code ip netns exec} and {@code ip link set ... netns}. */
    public String name() {
        return name;
    }

    /** Runs {@code ip -n <ns> args...}; throws if it fails. */
    public Result ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ipBinary(), "-n", name));
        cmd.addAll(List.of(args));
        return checked(runCommand(cmd), cmd);
    }

    /** Runs a command inside the namespace and waits for it (60 s at most); the exit status is not checked. */
    public Result exec(String... command) {
        return runCommand(command(List.of(command)));
    }

    /** {@link #exec}, throwing if the command exits non-zero. */
    public Result run(String... command) {
        List<String> cmd = command(List.of(command));
        return checked(runCommand(cmd), cmd);
    }

    /** The full command line that runs {@code command} inside this namespace. */
    public List<String> command(List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command must not be empty");
        }
        List<String> cmd = new ArrayList<>(List.of(ipBinary(), "netns", "exec", name));
        cmd.addAll(command);
        return cmd;
    }

    /**
     * Starts a long-running process inside the namespace, stdin from /dev/null; {@code configure} may set up the
     * builder further (output redirects, environment, directory) before it starts. The process is killed, with its
     * descendants, on {@link #close()}.
     */
    public Process start(List<String> command, java.util.function.Consumer<ProcessBuilder> configure) {
        ensureOpen();
        ProcessBuilder pb = new ProcessBuilder(command(command)).redirectInput(ProcessBuilder.Redirect.from(
                new File("/dev/null")));
        configure.accept(pb);
        try {
            Process p = pb.start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command + " in netns " + name, e);
        }
    }

    /** {@link #start(List, java.util.function.Consumer)} with stdout and stderr merged into {@link Process#getInputStream()}. */
    public Process start(List<String> command) {
        return start(command, pb -> pb.redirectErrorStream(true));
    }

    /**
     * Starts a JVM (this JVM's java binary) inside the namespace running {@code mainClass}, on a class path made of
     * the main class's location plus this JVM's class and module path, with native access enabled.
     */
    public Process startJava(Class<?> mainClass, List<String> args) {
        return start(javaCommand(mainClass, List.of(), args));
    }

    /** The java command line {@link #startJava} uses, with extra JVM options, for callers that build their own. */
    public static List<String> javaCommand(Class<?> mainClass, List<String> jvmOptions, List<String> args) {
        Set<String> cp = new LinkedHashSet<>();
        try {
            cp.add(Path.of(mainClass.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw new IllegalArgumentException("cannot locate the class path entry of " + mainClass.getName(), e);
        }
        for (String prop : new String[] {"jdk.module.path", "java.class.path"}) {
            String v = System.getProperty(prop, "");
            for (String entry : v.split(File.pathSeparator)) {
                if (!entry.isBlank()) {
                    cp.add(entry);
                }
            }
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, cp));
        cmd.add(mainClass.getName());
        cmd.addAll(args);
        return cmd;
    }

    /** Creates a bridge inside the namespace (no STP, no forward delay) and brings it up. */
    public void addBridge(String bridge) {
        ip("link", "add", "name", bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0");
        setUp(bridge);
    }

    /** Brings a link inside the namespace up. */
    public void setUp(String ifname) {
        ip("link", "set", "dev", ifname, "up");
    }

    /** Adds an address ({@code 10.0.0.1/24}, {@code fd00::1/64}) to a link inside the namespace. */
    public void addAddress(String ifname, String cidr) {
        ip("addr", "add", cidr, "dev", ifname);
    }

    /** {@code ip link set dev <ifname> master <bridge> up} inside the namespace. */
    public void attach(String ifname, String bridge) {
        ip("link", "set", "dev", ifname, "master", bridge, "up");
    }

    /**
     * Moves a link from the caller's namespace into this one ({@code ip link set <ifname> netns <ns>}); the kernel
     * takes it down on the move, so this brings it up again. Deleting the namespace deletes virtual links in it.
     */
    public void adoptLink(String ifname) {
        Result r = runCommand(List.of(ipBinary(), "link", "set", "dev", ifname, "netns", name));
        checked(r, List.of("ip", "link", "set", "dev", ifname, "netns", name));
        setUp(ifname);
    }

    /** A veth pair between this namespace ({@code here}) and {@code other} ({@code there}), both ends up. */
    public void vethTo(String here, NetNs other, String there) {
        ip("link", "add", here, "type", "veth", "peer", "name", there, "netns", other.name());
        setUp(here);
        other.setUp(there);
    }

    /**
     * A veth pair between this namespace ({@code here}) and the caller's namespace ({@code callerEnd}), both up.
     * The caller-side end is deleted on close; nothing else (addresses, routes) is set on it.
     */
    public void vethToCaller(String here, String callerEnd) {
        List<String> cmd = List.of(ipBinary(), "link", "add", callerEnd, "type", "veth", "peer", "name", here,
                "netns", name);
        checked(runCommand(cmd), cmd);
        callerSideLinks.add(callerEnd);
        List<String> up = List.of(ipBinary(), "link", "set", "dev", callerEnd, "up");
        checked(runCommand(up), up);
        setUp(here);
    }

    /** A link's MAC address inside the namespace, as {@code aa:bb:cc:dd:ee:ff}. */
    public String mac(String ifname) {
        String out = ip("-o", "link", "show", "dev", ifname).out();
        Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no MAC address for " + ifname + " in netns " + name + ": " + out);
        }
        return m.group(1);
    }

    /** The bridge a link inside the namespace is attached to, if any. */
    public Optional<String> masterOf(String ifname) {
        String[] words = ip("-o", "link", "show", "dev", ifname).out().split("\\s+");
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals("master")) {
                return Optional.of(words[i + 1]);
            }
        }
        return Optional.empty();
    }

    /** Turns IPv6 off inside the namespace, so tests that count frames see no router solicitations or MLD. */
    public void disableIpv6() {
        // /proc/sys/net belongs to the namespace of the writing process; no procps needed, and a kernel without
        // IPv6 (no such files) has nothing to turn off.
        run("sh", "-c", "for c in all default; do f=/proc/sys/net/ipv6/conf/$c/disable_ipv6; "
                + "if [ -e $f ]; then echo 1 > $f || exit 1; fi; done");
    }

    /** Pids of every process currently in the namespace ({@code ip netns pids}). */
    public Set<Long> pids() {
        Result r = runCommand(List.of(ipBinary(), "netns", "pids", name));
        Set<Long> pids = new LinkedHashSet<>();
        for (String line : r.out().split("\\s+")) {
            if (line.matches("\\d+")) {
                pids.add(Long.parseLong(line));
            }
        }
        return pids;
    }

    /**
     * Kills what runs in the namespace, deletes the caller-side veth ends, deletes the namespace. Idempotent. The
     * name is gone when this returns; the kernel tears the namespace's own devices down asynchronously just after
     * (a veth peer in another namespace disappears a moment later).
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        List<String> problems = new ArrayList<>();
        synchronized (processes) {
            for (Process p : processes) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
        for (Process p : List.copyOf(processes)) {
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    problems.add("process " + p.pid() + " did not exit");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        killRemaining(problems);
        for (String link : List.copyOf(callerSideLinks)) {
            // Deleting either veth end deletes the pair; only ask if it is still there (the ns may be gone).
            if (runCommand(List.of(ipBinary(), "-o", "link", "show", "dev", link)).exit() == 0) {
                Result r = runCommand(List.of(ipBinary(), "link", "del", "dev", link));
                if (r.exit() != 0 && runCommand(List.of(ipBinary(), "-o", "link", "show", "dev", link)).exit() == 0) {
                    problems.add("ip link del " + link + ": " + errorText(r));
                }
            }
        }
        Result del = runCommand(List.of(ipBinary(), "netns", "del", name));
        if (del.exit() != 0 && exists(name)) {
            problems.add("ip netns del " + name + ": " + errorText(del));
        }
        OPEN.remove(this);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("cleanup of netns " + name + " incomplete: " + String.join("; ", problems));
        }
    }

    private void killRemaining(List<String> problems) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Set<Long> left = pids();
        List<ProcessHandle> killed = new ArrayList<>();
        while (!left.isEmpty()) {
            for (long pid : left) {
                ProcessHandle.of(pid).ifPresent(h -> {
                    h.destroyForcibly();
                    killed.add(h);
                });
            }
            if (System.nanoTime() > deadline) {
                problems.add("processes still in netns: " + left);
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            left = pids();
        }
        // A killed process leaves `ip netns pids` at once but stays a zombie until its parent (often init) reaps
        // it; wait for that too, so callers that check pids afterwards see them gone.
        for (ProcessHandle h : killed) {
            try {
                h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                problems.add("process " + h.pid() + " killed but not reaped");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("netns " + name + " is closed");
        }
    }

    /** Deletes {@code dx<pid>-...} namespaces whose creating JVM no longer runs (once per JVM). */
    private static void removeStale() {
        synchronized (STALE_SWEEP) {
            if (sweptStale) {
                return;
            }
            sweptStale = true;
        }
        Path dir = Path.of("/run/netns");
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                Matcher m = OURS.matcher(e.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                    NetNs stale = new NetNs(e.getFileName().toString());
                    try {
                        stale.close();
                    } catch (IllegalStateException ex) {
                        System.err.println("event=netns-stale-cleanup-failed netns=" + stale.name + " error=\""
                                + ex.getMessage() + "\"");
                    }
                }
            }
        } catch (IOException e) {
            System.err.println("event=netns-stale-scan-failed error=\"" + e.getMessage() + "\"");
        }
    }

    private static Result checked(Result r, List<String> cmd) {
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + errorText(r));
        }
        return r;
    }

    private static String errorText(Result r) {
        String e = r.err().strip();
        return e.isEmpty() ? "exit " + r.exit() + (r.out().isBlank() ? "" : ": " + r.out().strip()) : e;
    }

    static Result runCommand(List<String> cmd) {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish in " + COMMAND_TIMEOUT);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd, e);
        }
        return new Result(p.exitValue(), out.join(), err.join());
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
    }

    private static String ipBinary() {
        return dev.domus.xen.devices.virtio.net.HostLinks.ipBinary();
    }

    @Override
    public String toString() {
        return "NetNs[" + name + "]";
    }
}
