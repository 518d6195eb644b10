// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * One command for a host agent (schema {@code events/host-command.schema.json}). Commands are nudges towards the
 * desired state; an agent applies each {@code commandId} once and rejects epochs older than the one it holds.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record HostCommand(
        @JsonProperty("schema_version") int schemaVersion,
        @JsonProperty("command_id") UUID commandId,
        @JsonProperty("type") HostCommandType type,
        @JsonProperty("host_id") UUID hostId,
        @JsonProperty("vps_id") UUID vpsId,
        @JsonProperty("action_id") UUID actionId,
        @JsonProperty("epoch") long epoch,
        @JsonProperty("issued_at") Instant issuedAt,
        @JsonProperty("spec") Optional<VpsSpec> spec,
        @JsonProperty("snapshot_name") Optional<String> snapshotName) {

    public HostCommand {
        Events.require(schemaVersion == Events.SCHEMA_VERSION, "unsupported schema_version " + schemaVersion);
        Events.present(commandId, "command_id");
        Events.present(type, "type");
        Events.present(hostId, "host_id");
        Events.present(vpsId, "vps_id");
        Events.present(actionId, "action_id");
        Events.present(issuedAt, "issued_at");
        Events.require(epoch >= 0, "epoch must be >= 0");
        spec = spec == null ? Optional.empty() : spec;
        snapshotName = snapshotName == null ? Optional.empty() : snapshotName;
        boolean needsSpec = type == HostCommandType.CREATE || type == HostCommandType.RESIZE
                || type == HostCommandType.REBUILD;
        Events.require(!needsSpec || spec.isPresent(), type.wire() + " needs a spec");
    }

    /** A version-1 command issued now. */
    public static HostCommand of(HostCommandType type, UUID hostId, UUID vpsId, UUID actionId, long epoch,
                                 Optional<VpsSpec> spec, Optional<String> snapshotName) {
        return new HostCommand(Events.SCHEMA_VERSION, UUID.randomUUID(), type, hostId, vpsId, actionId, epoch,
                Instant.now(), spec, snapshotName);
    }
}
