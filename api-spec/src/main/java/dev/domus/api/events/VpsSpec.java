// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Desired shape of a VPS carried by create/resize/rebuild commands. {@code plan}, {@code ip} and the owner are
 * optional so that a command from an older control plane still reads; without {@code ip} the agent uses its
 * local pool.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record VpsSpec(
        @JsonProperty("name") String name,
        @JsonProperty("vcpus") int vcpus,
        @JsonProperty("memory_mb") int memoryMb,
        @JsonProperty("disk_gb") int diskGb,
        @JsonProperty("image") String image,
        @JsonProperty("ssh_keys") List<String> sshKeys,
        @JsonProperty("user_data") String userData,
        @JsonProperty("plan") Optional<String> plan,
        @JsonProperty("ip") Optional<String> ip,
        @JsonProperty("organization_id") Optional<UUID> organizationId,
        @JsonProperty("project_id") Optional<UUID> projectId) {

    @JsonCreator
    public VpsSpec {
        Events.require(name != null && !name.isEmpty() && name.length() <= 63, "spec.name must be 1..63 chars");
        Events.require(vcpus >= 1 && vcpus <= 64, "spec.vcpus must be 1..64, got " + vcpus);
        Events.require(memoryMb >= 64, "spec.memory_mb must be >= 64, got " + memoryMb);
        Events.require(diskGb >= 1, "spec.disk_gb must be >= 1, got " + diskGb);
        Events.require(image != null && !image.isEmpty(), "spec.image is required");
        sshKeys = List.copyOf(Objects.requireNonNullElse(sshKeys, List.of()));
        userData = Objects.requireNonNullElse(userData, "");
        Events.require(userData.length() <= 32768, "spec.user_data must be <= 32768 chars");
        plan = plan == null ? Optional.empty() : plan;
        ip = ip == null ? Optional.empty() : ip;
        organizationId = organizationId == null ? Optional.empty() : organizationId;
        projectId = projectId == null ? Optional.empty() : projectId;
        Events.require(plan.isEmpty() || (!plan.get().isEmpty() && plan.get().length() <= 63),
                "spec.plan must be 1..63 chars");
        Events.require(ip.isEmpty() || ip.get().matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}"),
                "spec.ip must be a.b.c.d/prefix, got " + ip.orElse(""));
    }

    /** A spec without plan, address or owner (standalone agents, tests). */
    public VpsSpec(String name, int vcpus, int memoryMb, int diskGb, String image, List<String> sshKeys,
                   String userData) {
        this(name, vcpus, memoryMb, diskGb, image, sshKeys, userData, Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    /** The guest NIC's MAC for a VPS: locally administered, unicast, derived from the id (agent and API agree). */
    public static String macFor(UUID vpsId) {
        long bits = vpsId.getLeastSignificantBits() ^ vpsId.getMostSignificantBits();
        return String.format("02:%02x:%02x:%02x:%02x:%02x", (bits >>> 32) & 0xff, (bits >>> 24) & 0xff,
                (bits >>> 16) & 0xff, (bits >>> 8) & 0xff, bits & 0xff);
    }
}
