// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.UUID;

/**
 * What a host's resources are doing, carried by {@code host.heartbeat} (schema {@code host-event.schema.json},
 * {@code utilization}). CPU is measured from the domain runner processes' CPU time between two heartbeats, as a
 * percentage of one core (a runner busy on two cores reports 200); memory is the runners' resident set.
 *
 * @param cpuCount          host CPUs (capacity)
 * @param memoryMb          host physical memory (capacity)
 * @param allocatedVcpus    vCPUs of the VPSes placed on the host that should run
 * @param allocatedMemoryMb guest memory of those VPSes
 * @param cpuPercent        sum of the runners' CPU use, % of one core
 * @param rssBytes          sum of the runners' resident memory
 * @param vps               one entry per running VPS
 */
public record HostUtilization(
        @JsonProperty("cpu_count") int cpuCount,
        @JsonProperty("memory_mb") long memoryMb,
        @JsonProperty("allocated_vcpus") int allocatedVcpus,
        @JsonProperty("allocated_memory_mb") long allocatedMemoryMb,
        @JsonProperty("cpu_percent") double cpuPercent,
        @JsonProperty("rss_bytes") long rssBytes,
        @JsonProperty("vps") List<Vps> vps) {

    /** Entries a heartbeat carries at most (the schema's maxItems). */
    public static final int MAX_VPS = 1024;

    public HostUtilization {
        Events.require(cpuCount >= 1, "cpu_count must be >= 1, got " + cpuCount);
        Events.require(memoryMb >= 0 && allocatedVcpus >= 0 && allocatedMemoryMb >= 0 && rssBytes >= 0,
                "utilization figures must be >= 0");
        Events.require(cpuPercent >= 0 && Double.isFinite(cpuPercent), "cpu_percent must be >= 0, got " + cpuPercent);
        vps = List.copyOf(vps == null ? List.of() : vps);
        Events.require(vps.size() <= MAX_VPS, "at most " + MAX_VPS + " vps entries, got " + vps.size());
    }

    /**
     * One running VPS.
     *
     * @param vpsId      the VPS
     * @param vcpus      its vCPUs
     * @param memoryMb   its guest memory size
     * @param cpuPercent its runner's CPU use since the previous heartbeat, % of one core
     * @param rssBytes   its runner's resident memory (guest RAM touched so far + JVM)
     */
    public record Vps(
            @JsonProperty("vps_id") UUID vpsId,
            @JsonProperty("vcpus") int vcpus,
            @JsonProperty("memory_mb") int memoryMb,
            @JsonProperty("cpu_percent") double cpuPercent,
            @JsonProperty("rss_bytes") long rssBytes) {

        public Vps {
            Events.present(vpsId, "vps_id");
            Events.require(vcpus >= 1 && memoryMb >= 1 && rssBytes >= 0, "vps utilization figures out of range");
            Events.require(cpuPercent >= 0 && Double.isFinite(cpuPercent), "cpu_percent must be >= 0, got " + cpuPercent);
        }
    }
}
