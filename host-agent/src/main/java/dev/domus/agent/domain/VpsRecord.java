// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.domain;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * What this host keeps about one VPS, persisted as JSON under the state directory (version 1) so that an agent
 * restart knows every VPS without asking anyone.
 *
 * @param version       record format version, 1
 * @param vpsId         the control plane's VPS id
 * @param hostname      guest host name (the spec name)
 * @param vcpus         vCPUs
 * @param memoryMb      guest RAM
 * @param diskGb        root disk size
 * @param image         image name in the catalog
 * @param sshKeys       authorized_keys lines for root
 * @param userData      opaque user data carried on the config drive
 * @param ip            address with prefix, e.g. {@code 10.77.0.11/24}
 * @param gateway       gateway address without prefix
 * @param mac           guest NIC MAC
 * @param organizationId owner, for usage events
 * @param projectId     project, for usage events
 * @param plan          plan name, for usage events
 * @param powerOn       desired power state
 * @param epoch         fencing token of the newest command applied to this VPS
 */
public record VpsRecord(
        @JsonProperty("version") int version,
        @JsonProperty("vps_id") UUID vpsId,
        @JsonProperty("hostname") String hostname,
        @JsonProperty("vcpus") int vcpus,
        @JsonProperty("memory_mb") int memoryMb,
        @JsonProperty("disk_gb") int diskGb,
        @JsonProperty("image") String image,
        @JsonProperty("ssh_keys") List<String> sshKeys,
        @JsonProperty("user_data") String userData,
        @JsonProperty("ip") String ip,
        @JsonProperty("gateway") String gateway,
        @JsonProperty("mac") String mac,
        @JsonProperty("organization_id") Optional<UUID> organizationId,
        @JsonProperty("project_id") Optional<UUID> projectId,
        @JsonProperty("plan") Optional<String> plan,
        @JsonProperty("power_on") boolean powerOn,
        @JsonProperty("epoch") long epoch) {

    public static final int VERSION = 1;

    public VpsRecord {
        if (version != VERSION) {
            throw new AgentException(AgentException.BAD_RECORD, "unsupported VPS record version " + version);
        }
        Objects.requireNonNull(vpsId, "vps_id");
        require(hostname != null && hostname.matches("[A-Za-z0-9][A-Za-z0-9-]{0,62}"),
                "hostname must be 1..63 letters, digits or '-', got " + hostname);
        require(vcpus >= 1 && vcpus <= 8, "vcpus must be 1..8, got " + vcpus);
        require(memoryMb >= 64 && memoryMb <= 16384, "memory_mb must be 64..16384, got " + memoryMb);
        require(diskGb >= 1 && diskGb <= 1024, "disk_gb must be 1..1024, got " + diskGb);
        require(image != null && image.matches("[A-Za-z0-9_.-]{1,64}"), "image must be a catalog name, got " + image);
        sshKeys = List.copyOf(sshKeys == null ? List.of() : sshKeys);
        for (String k : sshKeys) {
            require(!k.contains("\n") && k.length() <= 8192, "ssh key must be one line of <= 8192 chars");
        }
        userData = userData == null ? "" : userData;
        require(ip != null && ip.matches("\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}"), "ip must be a.b.c.d/prefix, got " + ip);
        require(gateway != null && gateway.matches("\\d{1,3}(\\.\\d{1,3}){3}"), "gateway must be a.b.c.d, got " + gateway);
        require(mac != null && mac.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}"), "mac must be lower-case xx:..:xx, got " + mac);
        organizationId = organizationId == null ? Optional.empty() : organizationId;
        projectId = projectId == null ? Optional.empty() : projectId;
        plan = plan == null ? Optional.empty() : plan;
    }

    /** The xen-core domain name: stable per VPS, so a second runner for the same VPS is refused as {@code exists}. */
    public String domainName() {
        return "vps-" + vpsId;
    }

    /** Tap name (Linux allows 15 characters): derived from the VPS id. */
    public String tapName() {
        return "dt" + vpsId.toString().replace("-", "").substring(0, 12);
    }

    /** Address without prefix. */
    public String address() {
        return ip.substring(0, ip.indexOf('/'));
    }

    public VpsRecord withPower(boolean on, long newEpoch) {
        return new VpsRecord(version, vpsId, hostname, vcpus, memoryMb, diskGb, image, sshKeys, userData, ip, gateway,
                mac, organizationId, projectId, plan, on, Math.max(epoch, newEpoch));
    }

    /** After a resize: the new shape and plan (the disk never shrinks; the caller checked). */
    public VpsRecord withShape(int newVcpus, int newMemoryMb, int newDiskGb, Optional<String> newPlan, long newEpoch) {
        return new VpsRecord(version, vpsId, hostname, newVcpus, newMemoryMb, newDiskGb, image, sshKeys, userData, ip,
                gateway, mac, organizationId, projectId, newPlan.isPresent() ? newPlan : plan, powerOn,
                Math.max(epoch, newEpoch));
    }

    /** After a rebuild: the new image and keys; id, address and MAC stay. */
    public VpsRecord withImage(String newImage, List<String> newKeys, long newEpoch) {
        return new VpsRecord(version, vpsId, hostname, vcpus, memoryMb, diskGb, newImage, newKeys, userData, ip,
                gateway, mac, organizationId, projectId, plan, true, Math.max(epoch, newEpoch));
    }

    /** Owner and plan for usage events, as the control plane says (absent values keep what is known). */
    public VpsRecord withOwner(Optional<UUID> org, Optional<UUID> project, Optional<String> newPlan) {
        return new VpsRecord(version, vpsId, hostname, vcpus, memoryMb, diskGb, image, sshKeys, userData, ip, gateway,
                mac, org.isPresent() ? org : organizationId, project.isPresent() ? project : projectId,
                newPlan.isPresent() ? newPlan : plan, powerOn, epoch);
    }

    /** A MAC derived from the VPS id: locally administered, unicast, stable (the API shows the same one). */
    public static String macFor(UUID vpsId) {
        return dev.domus.api.events.VpsSpec.macFor(vpsId);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new AgentException(AgentException.BAD_RECORD, message);
        }
    }
}
