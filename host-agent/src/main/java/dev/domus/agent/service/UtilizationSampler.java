// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.domain.VpsPhase;
import dev.domus.api.events.HostUtilization;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Samples what the domain runners use, for {@code host.heartbeat}: CPU from {@code /proc/<pid>/stat} (user +
 * system time) as the delta since the previous sample of the same runner, in % of one core; memory from
 * {@code VmRSS} in {@code /proc/<pid>/status}. A runner seen for the first time reports its average since it
 * started. Host capacity: CPUs and {@code MemTotal}; allocation: vCPUs and memory of the VPSes that should run.
 */
@ApplicationScoped
public class UtilizationSampler {
    /** Linux reports process times in USER_HZ, which is 100 on every architecture the agent runs on. */
    static final int USER_HZ = 100;

    private record Sample(long pid, long ticks, long nanos) { }

    private final Map<java.util.UUID, Sample> previous = new HashMap<>();
    private final Path proc;

    public UtilizationSampler() {
        this(Path.of("/proc"));
    }

    UtilizationSampler(Path proc) {
        this.proc = proc;
    }

    /** One sample over {@code vpses} (the supervisor's list); called from the heartbeat timer only. */
    public synchronized HostUtilization sample(List<DomainSupervisor.VpsStatus> vpses) {
        long now = System.nanoTime();
        int allocVcpus = 0;
        long allocMem = 0;
        double cpuSum = 0;
        long rssSum = 0;
        List<HostUtilization.Vps> out = new ArrayList<>();
        Map<java.util.UUID, Sample> seen = new HashMap<>();
        for (DomainSupervisor.VpsStatus v : vpses) {
            if (v.record().powerOn()) {
                allocVcpus += v.record().vcpus();
                allocMem += v.record().memoryMb();
            }
            long pid = v.runnerPid();
            if (v.phase() != VpsPhase.RUNNING || pid <= 0 || out.size() >= HostUtilization.MAX_VPS) {
                continue;
            }
            OptionalLong ticks = read(proc.resolve(pid + "/stat")).map(UtilizationSampler::cpuTicks)
                    .orElse(OptionalLong.empty());
            if (ticks.isEmpty()) {
                continue; // the runner is gone between list and read
            }
            long rss = read(proc.resolve(pid + "/status")).map(UtilizationSampler::rssBytes).orElse(0L);
            Sample prev = previous.get(v.record().vpsId());
            double cpu;
            if (prev != null && prev.pid() == pid && now > prev.nanos()) {
                cpu = percent(ticks.getAsLong() - prev.ticks(), now - prev.nanos());
            } else {
                cpu = lifetimePercent(pid, ticks.getAsLong());
            }
            seen.put(v.record().vpsId(), new Sample(pid, ticks.getAsLong(), now));
            out.add(new HostUtilization.Vps(v.record().vpsId(), v.record().vcpus(), v.record().memoryMb(), cpu, rss));
            cpuSum += cpu;
            rssSum += rss;
        }
        previous.clear();
        previous.putAll(seen);
        long memTotalMb = read(proc.resolve("meminfo")).map(m -> kbField(m, "MemTotal:")).orElse(0L) / 1024;
        return new HostUtilization(Math.max(1, Runtime.getRuntime().availableProcessors()), memTotalMb, allocVcpus,
                allocMem, round(cpuSum), rssSum, out);
    }

    /** utime + stime (fields 14 and 15) of a {@code /proc/<pid>/stat} line; the command may contain spaces. */
    static OptionalLong cpuTicks(String stat) {
        long[] f = fieldsAfterComm(stat, 15);
        return f == null ? OptionalLong.empty() : OptionalLong.of(f[13] + f[14]);
    }

    /** Process start (field 22, ticks since boot). */
    static OptionalLong startTicks(String stat) {
        long[] f = fieldsAfterComm(stat, 22);
        return f == null ? OptionalLong.empty() : OptionalLong.of(f[21]);
    }

    /** VmRSS of a {@code /proc/<pid>/status} document, in bytes (0 when absent: a kernel thread or zombie). */
    static long rssBytes(String status) {
        return kbField(status, "VmRSS:") * 1024;
    }

    /** CPU % of one core for {@code ticks} of CPU time over {@code nanos} of wall time. */
    static double percent(long ticks, long nanos) {
        if (ticks <= 0 || nanos <= 0) {
            return 0;
        }
        return round(ticks / (double) USER_HZ / (nanos / 1e9) * 100.0);
    }

    private double lifetimePercent(long pid, long ticks) {
        OptionalLong start = read(proc.resolve(pid + "/stat")).map(UtilizationSampler::startTicks)
                .orElse(OptionalLong.empty());
        double up = read(proc.resolve("uptime")).map(UtilizationSampler::firstNumber).orElse(0.0);
        if (start.isEmpty() || up <= 0) {
            return 0;
        }
        double aliveSeconds = up - start.getAsLong() / (double) USER_HZ;
        return aliveSeconds <= 0 ? 0 : percent(ticks, (long) (aliveSeconds * 1e9));
    }

    /** Fields 1..n of a stat line, parsing after the last ')' (field 2, the command, may hold anything). */
    private static long[] fieldsAfterComm(String stat, int n) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return null;
        }
        String[] rest = stat.substring(close + 1).strip().split("\\s+");
        // rest[0] is field 3 (state)
        if (rest.length < n - 2) {
            return null;
        }
        long[] f = new long[n];
        try {
            for (int i = 3; i <= n; i++) {
                f[i - 1] = i == 3 ? 0 : Long.parseLong(rest[i - 3]);
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return f;
    }

    private static long kbField(String doc, String name) {
        for (String line : doc.split("\n")) {
            if (line.startsWith(name)) {
                String[] p = line.substring(name.length()).strip().split("\\s+");
                try {
                    return Long.parseLong(p[0]);
                } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    private static double firstNumber(String s) {
        try {
            return Double.parseDouble(s.strip().split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static java.util.Optional<String> read(Path p) {
        try {
            return java.util.Optional.of(Files.readString(p));
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }
}
