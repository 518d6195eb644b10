// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

/**
 * One report from a host agent (schema {@code events/host-event.schema.json}). Consumers dedupe by
 * {@code eventId} in the same transaction as the effect.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record HostEvent(
        @JsonProperty("schema_version") int schemaVersion,
        @JsonProperty("event_id") UUID eventId,
        @JsonProperty("type") HostEventType type,
        @JsonProperty("host_id") UUID hostId,
        @JsonProperty("occurred_at") Instant occurredAt,
        @JsonProperty("vps_id") Optional<UUID> vpsId,
        @JsonProperty("action_id") Optional<UUID> actionId,
        @JsonProperty("progress") OptionalInt progress,
        @JsonProperty("vps_state") Optional<String> vpsState,
        @JsonProperty("error_code") Optional<String> errorCode,
        @JsonProperty("error_message") Optional<String> errorMessage,
        @JsonProperty("running_vps") OptionalInt runningVps,
        @JsonProperty("utilization") Optional<HostUtilization> utilization) {

    @JsonCreator
    public HostEvent {
        Events.require(schemaVersion == Events.SCHEMA_VERSION, "unsupported schema_version " + schemaVersion);
        Events.present(eventId, "event_id");
        Events.present(type, "type");
        Events.present(hostId, "host_id");
        Events.present(occurredAt, "occurred_at");
        vpsId = vpsId == null ? Optional.empty() : vpsId;
        actionId = actionId == null ? Optional.empty() : actionId;
        progress = progress == null ? OptionalInt.empty() : progress;
        vpsState = vpsState == null ? Optional.empty() : vpsState;
        errorCode = errorCode == null ? Optional.empty() : errorCode;
        errorMessage = errorMessage == null ? Optional.empty() : errorMessage;
        runningVps = runningVps == null ? OptionalInt.empty() : runningVps;
        utilization = utilization == null ? Optional.empty() : utilization;
        Events.require(utilization.isEmpty() || type == HostEventType.HOST_HEARTBEAT,
                "utilization belongs to host.heartbeat only");
        if (type.isActionEvent()) {
            Events.require(vpsId.isPresent() && actionId.isPresent(), type.wire() + " needs vps_id and action_id");
        }
        if (type == HostEventType.ACTION_FAILED) {
            Events.require(errorCode.isPresent(), "action.failed needs error_code");
        }
        if (type == HostEventType.VPS_STATE) {
            Events.require(vpsId.isPresent() && vpsState.isPresent(), "vps.state needs vps_id and vps_state");
        }
        if (progress.isPresent()) {
            int p = progress.getAsInt();
            Events.require(p >= 0 && p <= 100, "progress must be 0..100, got " + p);
        }
        if (vpsState.isPresent()) {
            String s = vpsState.get();
            Events.require(s.equals("running") || s.equals("off") || s.equals("rescue") || s.equals("error")
                    || s.equals("deleted"), "unknown vps_state " + s);
        }
    }

    /** An event without utilization (every type but a heartbeat with figures). */
    public HostEvent(int schemaVersion, UUID eventId, HostEventType type, UUID hostId, Instant occurredAt,
                     Optional<UUID> vpsId, Optional<UUID> actionId, OptionalInt progress, Optional<String> vpsState,
                     Optional<String> errorCode, Optional<String> errorMessage, OptionalInt runningVps) {
        this(schemaVersion, eventId, type, hostId, occurredAt, vpsId, actionId, progress, vpsState, errorCode,
                errorMessage, runningVps, Optional.empty());
    }

    /** An action outcome or progress report, issued now with a fresh id. */
    public static HostEvent action(HostEventType type, UUID hostId, UUID vpsId, UUID actionId, int progress,
                                   Optional<String> errorCode, Optional<String> errorMessage) {
        return new HostEvent(Events.SCHEMA_VERSION, UUID.randomUUID(), type, hostId, Instant.now(),
                Optional.of(vpsId), Optional.of(actionId), OptionalInt.of(progress), Optional.empty(), errorCode,
                errorMessage, OptionalInt.empty());
    }

    /** A heartbeat of a host. */
    public static HostEvent heartbeat(UUID hostId, int runningVps) {
        return new HostEvent(Events.SCHEMA_VERSION, UUID.randomUUID(), HostEventType.HOST_HEARTBEAT, hostId,
                Instant.now(), Optional.empty(), Optional.empty(), OptionalInt.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), OptionalInt.of(runningVps));
    }

    /** A heartbeat with the host's utilization. */
    public static HostEvent heartbeat(UUID hostId, int runningVps, HostUtilization utilization) {
        return new HostEvent(Events.SCHEMA_VERSION, UUID.randomUUID(), HostEventType.HOST_HEARTBEAT, hostId,
                Instant.now(), Optional.empty(), Optional.empty(), OptionalInt.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), OptionalInt.of(runningVps), Optional.of(utilization));
    }
}
