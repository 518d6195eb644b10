// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.agent.AgentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capacity detection from a fake /proc tree and this machine's real one; config overrides win. */
class HostCapacityTest {

    record Cap(Optional<Integer> vcpus, Optional<Long> memoryMb, Optional<Long> diskGb, double cpuOvercommit,
               double memoryOvercommit, long reservedMemoryMb, double diskOvercommit) implements AgentConfig.Capacity {
        static Cap detected() {
            return new Cap(Optional.empty(), Optional.empty(), Optional.empty(), 4, 1, 2048, 1);
        }
    }

    @TempDir
    Path dir;

    private Path proc(int cpus, long memKb) throws IOException {
        Path p = Files.createDirectories(dir.resolve("proc"));
        StringBuilder cpu = new StringBuilder();
        for (int i = 0; i < cpus; i++) {
            cpu.append("processor\t: ").append(i).append("\nmodel name\t: Test CPU\n\n");
        }
        Files.writeString(p.resolve("cpuinfo"), cpu);
        Files.writeString(p.resolve("meminfo"), "MemTotal:       " + memKb + " kB\nMemFree:         1000 kB\n");
        return p;
    }

    @Test
    void detectsCpusMemoryAndDiskWithOvercommit() throws IOException {
        Path proc = proc(2, 24L * 1024 * 1024);
        HostCapacity c = HostCapacity.detect(Cap.detected(), proc, dir.resolve("state/not/yet"), List.of(10, 40));
        assertThat(c.vcpus()).isEqualTo(8);
        assertThat(c.memoryMb()).isEqualTo(24 * 1024 - 2048);
        long free = Files.getFileStore(dir).getUsableSpace() / (1024L * 1024 * 1024);
        // Free space moves while others write to the same disk: allow a little drift.
        assertThat(c.diskGb()).isBetween(free + 50 - 2, free + 50 + 2);

        HostCapacity half = HostCapacity.detect(new Cap(Optional.empty(), Optional.empty(), Optional.empty(), 0.5,
                2, 0, 1), proc, dir, List.of());
        assertThat(half.vcpus()).isEqualTo(1);
        assertThat(half.memoryMb()).isEqualTo(48 * 1024);
    }

    @Test
    void keepsMemoryForTheIdleStandbyRunners() throws IOException {
        Path proc = proc(2, 24L * 1024 * 1024);
        assertThat(HostCapacity.detect(Cap.detected(), proc, dir, List.of(), 256).memoryMb())
                .isEqualTo(24 * 1024 - 2048 - 256);
        // With overcommit the reserve comes off the host RAM before it is multiplied.
        assertThat(HostCapacity.detect(new Cap(Optional.empty(), Optional.empty(), Optional.empty(), 4, 2, 2048, 1),
                proc, dir, List.of(), 128).memoryMb()).isEqualTo(2L * (24 * 1024 - 2048 - 128));
        // A configured memory is what the operator wants offered, pool or not.
        assertThat(HostCapacity.detect(new Cap(Optional.empty(), Optional.of(5000L), Optional.empty(), 4, 1, 2048, 1),
                proc, dir, List.of(), 1024).memoryMb()).isEqualTo(5000);
    }

    @Test
    void overridesWinAndBrokenProcFallsBack() throws IOException {
        Path proc = Files.createDirectories(dir.resolve("empty-proc"));
        Files.writeString(proc.resolve("meminfo"), "MemTotal: lots\n");
        HostCapacity c = HostCapacity.detect(new Cap(Optional.of(3), Optional.of(5000L), Optional.of(77L), 4, 1, 2048,
                1), proc, dir, List.of());
        assertThat(c).isEqualTo(new HostCapacity(3, 5000, 77));
        HostCapacity d = HostCapacity.detect(Cap.detected(), proc, dir, List.of());
        assertThat(d.vcpus()).isEqualTo((int) Math.floor(Runtime.getRuntime().availableProcessors() * 4.0));
        assertThat(d.memoryMb()).isGreaterThanOrEqualTo(HostCapacity.MIN_MEMORY_MB);
    }

    @Test
    void readsThisMachinesProc() {
        assertThat(HostCapacity.cpus(Path.of("/proc"))).get().satisfies(n -> assertThat(n).isPositive());
        assertThat(HostCapacity.memTotalMb(Path.of("/proc"))).get().satisfies(m -> assertThat(m).isGreaterThan(256L));
    }
}
