// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * An organization's month-to-date cost reached its alert threshold (schema {@code events/billing-alert.schema.json}).
 * Amounts are integer minor units of {@code currency} (ISO 4217).
 */
public record BillingAlertEvent(
        @JsonProperty("schema_version") int schemaVersion,
        @JsonProperty("event_id") UUID eventId,
        @JsonProperty("organization_id") UUID organizationId,
        @JsonProperty("period") String period,
        @JsonProperty("currency") String currency,
        @JsonProperty("threshold_minor") long thresholdMinor,
        @JsonProperty("month_to_date_minor") long monthToDateMinor,
        @JsonProperty("occurred_at") Instant occurredAt) {
    private static final Pattern PERIOD = Pattern.compile("[0-9]{4}-(0[1-9]|1[0-2])");
    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");

    public BillingAlertEvent {
        Events.require(schemaVersion == Events.SCHEMA_VERSION, "unsupported schema_version " + schemaVersion);
        Events.present(eventId, "event_id");
        Events.present(organizationId, "organization_id");
        Events.present(period, "period");
        Events.require(PERIOD.matcher(period).matches(), "period must be YYYY-MM, got " + period);
        Events.present(currency, "currency");
        Events.require(CURRENCY.matcher(currency).matches(), "currency must be ISO 4217, got " + currency);
        Events.require(thresholdMinor >= 0, "threshold_minor must be >= 0");
        Events.present(occurredAt, "occurred_at");
    }

    /** Schema version written by this code. */
    public static int currentVersion() {
        return Events.SCHEMA_VERSION;
    }
}
