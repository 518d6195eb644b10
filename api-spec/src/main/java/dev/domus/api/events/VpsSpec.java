// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;

/** Desired shape of a VPS carried by create/resize/rebuild commands. */
public record VpsSpec(
        @JsonProperty("name") String name,
        @JsonProperty("vcpus") int vcpus,
        @JsonProperty("memory_mb") int memoryMb,
        @JsonProperty("disk_gb") int diskGb,
        @JsonProperty("image") String image,
        @JsonProperty("ssh_keys") List<String> sshKeys,
        @JsonProperty("user_data") String userData) {

    public VpsSpec {
        Events.require(name != null && !name.isEmpty() && name.length() <= 63, "spec.name must be 1..63 chars");
        Events.require(vcpus >= 1 && vcpus <= 64, "spec.vcpus must be 1..64, got " + vcpus);
        Events.require(memoryMb >= 64, "spec.memory_mb must be >= 64, got " + memoryMb);
        Events.require(diskGb >= 1, "spec.disk_gb must be >= 1, got " + diskGb);
        Events.require(image != null && !image.isEmpty(), "spec.image is required");
        sshKeys = List.copyOf(Objects.requireNonNullElse(sshKeys, List.of()));
        userData = Objects.requireNonNullElse(userData, "");
        Events.require(userData.length() <= 32768, "spec.user_data must be <= 32768 chars");
    }
}
