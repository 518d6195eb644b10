// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/** A VPS was created, resized or deleted (schema {@code events/vps-lifecycle.schema.json}). */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record VpsLifecycleEvent(
        @JsonProperty("schema_version") int schemaVersion,
        @JsonProperty("event_id") UUID eventId,
        @JsonProperty("type") VpsLifecycleType type,
        @JsonProperty("organization_id") UUID organizationId,
        @JsonProperty("project_id") UUID projectId,
        @JsonProperty("vps_id") UUID vpsId,
        @JsonProperty("name") Optional<String> name,
        @JsonProperty("plan") String plan,
        @JsonProperty("occurred_at") Instant occurredAt) {

    public VpsLifecycleEvent {
        Events.require(schemaVersion == Events.SCHEMA_VERSION, "unsupported schema_version " + schemaVersion);
        Events.present(eventId, "event_id");
        Events.present(type, "type");
        Events.present(organizationId, "organization_id");
        Events.present(projectId, "project_id");
        Events.present(vpsId, "vps_id");
        Events.present(plan, "plan");
        Events.require(!plan.isBlank() && plan.length() <= 63, "plan must be 1..63 characters");
        Events.present(occurredAt, "occurred_at");
        name = name == null ? Optional.empty() : name;
    }

    public static VpsLifecycleEvent of(VpsLifecycleType type, UUID organizationId, UUID projectId, UUID vpsId,
            String plan, Instant occurredAt) {
        return new VpsLifecycleEvent(Events.SCHEMA_VERSION, UUID.randomUUID(), type, organizationId, projectId, vpsId,
                Optional.empty(), plan, occurredAt);
    }
}
