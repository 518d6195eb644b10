// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;

/**
 * What this host offers the scheduler, detected at registration: CPUs (the {@code processor} lines of
 * {@code /proc/cpuinfo}, else the JVM's count) and {@code MemTotal} of {@code /proc/meminfo} times the overcommit
 * factors of the config, and the free space of the state directory plus the root disks already placed here (they
 * are the control plane's allocations already). Each value can be overridden in the config.
 *
 * @param vcpus    vCPUs to offer
 * @param memoryMb guest memory to offer
 * @param diskGb   root-disk space to offer
 */
public record HostCapacity(int vcpus, long memoryMb, long diskGb) {
    /** Never offer less than the API's minimum (Capacity.memory_mb >= 256, vcpus >= 1, disk >= 1). */
    static final long MIN_MEMORY_MB = 256;

    /** Detects from {@code proc} (normally {@code /proc}) and the file store of {@code stateDir}. */
    public static HostCapacity detect(AgentConfig.Capacity c, Path proc, Path stateDir, Collection<Integer> vpsDiskGb) {
        return detect(c, proc, stateDir, vpsDiskGb, 0);
    }

    /**
     * Like {@link #detect(AgentConfig.Capacity, Path, Path, Collection)}, with {@code standbyMb} of host memory
     * also kept for the warm-start pool's idle standby runners (JVMs that hold no customer's guest: the scheduler
     * must not place guest RAM on that memory). Ignored when the memory is configured.
     */
    public static HostCapacity detect(AgentConfig.Capacity c, Path proc, Path stateDir, Collection<Integer> vpsDiskGb,
                                      long standbyMb) {
        int cpus = cpus(proc).orElse(Runtime.getRuntime().availableProcessors());
        long memTotalMb = memTotalMb(proc).orElse(Runtime.getRuntime().maxMemory() / (1024 * 1024));
        long freeGb = freeGb(stateDir);
        long placedGb = 0;
        for (int g : vpsDiskGb) {
            placedGb += g;
        }
        int vcpus = c.vcpus().orElse((int) Math.max(1, Math.floor(cpus * c.cpuOvercommit())));
        long memory = c.memoryMb().orElse(Math.max(MIN_MEMORY_MB,
                (long) Math.floor((memTotalMb - c.reservedMemoryMb() - Math.max(0, standbyMb)) * c.memoryOvercommit())));
        long disk = c.diskGb().orElse(Math.max(1, (long) Math.floor(freeGb * c.diskOvercommit()) + placedGb));
        return new HostCapacity(vcpus, memory, disk);
    }

    static Optional<Integer> cpus(Path proc) {
        try (var lines = Files.lines(proc.resolve("cpuinfo"))) {
            long n = lines.filter(l -> l.startsWith("processor") && l.contains(":")).count();
            return n > 0 ? Optional.of((int) n) : Optional.empty();
        } catch (IOException | java.io.UncheckedIOException e) {
            return Optional.empty();
        }
    }

    static Optional<Long> memTotalMb(Path proc) {
        try (var lines = Files.lines(proc.resolve("meminfo"))) {
            return lines.filter(l -> l.startsWith("MemTotal:")).findFirst().map(l -> {
                String[] f = l.trim().split("\\s+"); // "MemTotal:   24567890 kB"
                return Long.parseLong(f[1]) / 1024;
            });
        } catch (IOException | java.io.UncheckedIOException | NumberFormatException
                 | ArrayIndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }

    /** Free GiB of the file store holding {@code dir} (its nearest existing ancestor); 0 when unreadable. */
    static long freeGb(Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return 0;
        }
        try {
            return Files.getFileStore(p).getUsableSpace() / (1024L * 1024 * 1024);
        } catch (IOException e) {
            return 0;
        }
    }
}
