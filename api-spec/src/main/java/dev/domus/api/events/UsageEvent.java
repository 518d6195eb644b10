// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Metered usage of one resource over one period (schema {@code events/usage.schema.json}). The id is derived from
 * resource, metric and period so a re-sent report is the same event.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record UsageEvent(
        @JsonProperty("schema_version") int schemaVersion,
        @JsonProperty("event_id") UUID eventId,
        @JsonProperty("organization_id") UUID organizationId,
        @JsonProperty("project_id") UUID projectId,
        @JsonProperty("resource_id") UUID resourceId,
        @JsonProperty("metric") UsageMetric metric,
        @JsonProperty("quantity") long quantity,
        @JsonProperty("plan") Optional<String> plan,
        @JsonProperty("vps_state") Optional<String> vpsState,
        @JsonProperty("period_start") Instant periodStart,
        @JsonProperty("period_end") Instant periodEnd) {

    public UsageEvent {
        Events.require(schemaVersion == Events.SCHEMA_VERSION, "unsupported schema_version " + schemaVersion);
        Events.present(eventId, "event_id");
        Events.present(organizationId, "organization_id");
        Events.present(projectId, "project_id");
        Events.present(resourceId, "resource_id");
        Events.present(metric, "metric");
        Events.present(periodStart, "period_start");
        Events.present(periodEnd, "period_end");
        Events.require(quantity >= 0, "quantity must be >= 0, got " + quantity);
        Events.require(!periodEnd.isBefore(periodStart), "period_end must not be before period_start");
        plan = plan == null ? Optional.empty() : plan;
        vpsState = vpsState == null ? Optional.empty() : vpsState;
    }

    /** The deterministic id of a resource's metric over a period. */
    public static UUID idFor(UUID resourceId, UsageMetric metric, Instant periodStart, Instant periodEnd) {
        String key = resourceId + "|" + metric.wire() + "|" + periodStart + "|" + periodEnd;
        return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8));
    }
}
