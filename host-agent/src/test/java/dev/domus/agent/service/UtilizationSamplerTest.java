// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.agent.domain.VpsPhase;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.api.events.HostUtilization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UtilizationSamplerTest {
    private static final String STAT = "4242 (java (domus) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
            + "350 150 0 0 20 0 30 0 12345 1000000 2000 18446744073709551615";

    @Test
    void parsesStatAfterTheCommandNameAndStatus() {
        assertThat(UtilizationSampler.cpuTicks(STAT)).hasValue(500);
        assertThat(UtilizationSampler.startTicks(STAT)).hasValue(12345);
        assertThat(UtilizationSampler.cpuTicks("garbage")).isEmpty();
        assertThat(UtilizationSampler.cpuTicks("1 (x) S 1 2")).isEmpty();
        assertThat(UtilizationSampler.rssBytes("Name:\tjava\nVmRSS:\t  2048 kB\nThreads: 3\n")).isEqualTo(2048 * 1024);
        assertThat(UtilizationSampler.rssBytes("Name:\tkthreadd\n")).isZero();
    }

    @Test
    void percentIsOfOneCore() {
        // 100 ticks = 1 s of CPU over 2 s of wall time = 50 %; 400 ticks over 2 s = two cores busy.
        assertThat(UtilizationSampler.percent(100, 2_000_000_000L)).isEqualTo(50.0);
        assertThat(UtilizationSampler.percent(400, 2_000_000_000L)).isEqualTo(200.0);
        assertThat(UtilizationSampler.percent(-5, 1_000_000_000L)).isZero();
        assertThat(UtilizationSampler.percent(10, 0)).isZero();
    }

    @Test
    void samplesDeltasFromAProcTree(@TempDir Path proc) throws Exception {
        UUID on = UUID.randomUUID();
        UUID off = UUID.randomUUID();
        Files.createDirectories(proc.resolve("4242"));
        Files.writeString(proc.resolve("4242/stat"), STAT);
        Files.writeString(proc.resolve("4242/status"), "VmRSS:\t300000 kB\n");
        Files.writeString(proc.resolve("meminfo"), "MemTotal:       24576000 kB\nMemFree: 1 kB\n");
        Files.writeString(proc.resolve("uptime"), "223.45 400.00\n");
        UtilizationSampler s = new UtilizationSampler(proc);
        List<DomainSupervisor.VpsStatus> list = List.of(
                new DomainSupervisor.VpsStatus(record(on, 2, 512, true), VpsPhase.RUNNING, "", 4242, 0),
                new DomainSupervisor.VpsStatus(record(off, 1, 256, false), VpsPhase.OFF, "", 0, 0));
        HostUtilization first = s.sample(list);
        assertThat(first.cpuCount()).isPositive();
        assertThat(first.memoryMb()).isEqualTo(24000);
        assertThat(first.allocatedVcpus()).isEqualTo(2);
        assertThat(first.allocatedMemoryMb()).isEqualTo(512);
        assertThat(first.vps()).hasSize(1);
        HostUtilization.Vps v = first.vps().getFirst();
        assertThat(v.vpsId()).isEqualTo(on);
        assertThat(v.rssBytes()).isEqualTo(300000L * 1024);
        assertThat(v.memoryMb()).isEqualTo(512);
        // Lifetime average: 5 s of CPU since start at 123.45 s, now 223.45 s -> 100 s alive -> 5 %.
        assertThat(v.cpuPercent()).isEqualTo(5.0);
        // A second sample sees only the delta: 0 new ticks -> 0 %.
        HostUtilization second = s.sample(list);
        assertThat(second.vps().getFirst().cpuPercent()).isZero();
        assertThat(second.rssBytes()).isEqualTo(300000L * 1024);
    }

    @Test
    void readsTheRealProcOfThisJvm() {
        long pid = ProcessHandle.current().pid();
        UUID id = UUID.randomUUID();
        UtilizationSampler s = new UtilizationSampler();
        List<DomainSupervisor.VpsStatus> list = List.of(
                new DomainSupervisor.VpsStatus(record(id, 1, 256, true), VpsPhase.RUNNING, "", pid, 0));
        HostUtilization u = s.sample(list);
        assertThat(u.memoryMb()).isPositive();
        assertThat(u.vps()).hasSize(1);
        assertThat(u.vps().getFirst().rssBytes()).as("a JVM has tens of MB resident").isGreaterThan(10L << 20);
        // This JVM has used CPU since it started (class loading, JIT).
        assertThat(u.vps().getFirst().cpuPercent()).isPositive();
    }

    private static VpsRecord record(UUID id, int vcpus, int mem, boolean on) {
        return new VpsRecord(VpsRecord.VERSION, id, "web-1", vcpus, mem, 1, "demo", List.of(), "", "10.77.0.11/24",
                "10.77.0.1", VpsRecord.macFor(id), Optional.empty(), Optional.empty(), Optional.empty(), on, 0);
    }
}
