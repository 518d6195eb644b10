// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio;

import dev.domus.xen.testing.XlRunner;
import dev.domus.xen.testing.XlRunner.Result;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives the real {@code bin/xl} for the virtio integration tests, optionally inside a network namespace
 * ({@code ip netns exec <ns>}, so the domain runners it starts live there too), and captures output.
 */
final class XlDriver implements AutoCloseable {
    final Path repo = repoRoot();
    final Map<String, String> env = new HashMap<>();
    private final List<String> prefix;
    private final List<Process> started = new ArrayList<>();
    private final List<String> domains = new ArrayList<>();

    XlDriver(Path runDir, String netns) {
        env.put("DOMUS_RUN_DIR", runDir.toString());
        prefix = netns == null ? List.of() : List.of("ip", "netns", "exec", netns);
    }

    static Path repoRoot() {
        return XlRunner.repoRoot();
    }

    /** The guest image directory: $DOMUS_GUEST_DIR, else {@code deploy/guest/build --print-dir}. */
    static Path guestDir() throws Exception {
        return XlRunner.guestDir();
    }

    /** Remembers a domain to destroy on close. */
    void owns(String domain) {
        domains.add(domain);
    }

    Result xl(Duration timeout, String... args) throws Exception {
        return run(timeout, command(args), env, started);
    }

    /** Starts {@code xl args} with stdin piped (console input). */
    Process start(String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(args)).directory(repo.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(repo.resolve("bin/xl").toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code cmd} in the repository root to completion ({@link XlRunner#run}); tracked in {@code track}. */
    static Result run(Duration timeout, List<String> cmd, Map<String, String> env, List<Process> track)
            throws Exception {
        return XlRunner.run(XlRunner.local(repoRoot()), env, timeout, cmd, track == null ? new ArrayList<>() : track);
    }

    @Override
    public void close() throws Exception {
        for (String d : domains) {
            xl(Duration.ofSeconds(60), "destroy", d); // usually already gone
        }
        for (Process p : started) {
            p.destroyForcibly();
        }
    }

}
