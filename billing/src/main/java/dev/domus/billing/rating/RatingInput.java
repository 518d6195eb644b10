// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.time.Instant;
import java.util.Currency;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Everything the engine needs for one organization and period. {@code asOf} bounds lifecycle intervals that are
 * still open (a VPS not yet deleted is billed up to {@code min(asOf, period end)}); the same input always rates to
 * the same invoice.
 */
public record RatingInput(UUID organizationId, Currency currency, BillingPeriod period, Instant asOf,
        List<VpsTime> vpsTime, List<Lifecycle> lifecycle, List<Quantity> quantities, List<Adjustment> adjustments) {
    public RatingInput {
        Objects.requireNonNull(organizationId, "organizationId");
        Objects.requireNonNull(currency, "currency");
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(asOf, "asOf");
        vpsTime = List.copyOf(vpsTime);
        lifecycle = List.copyOf(lifecycle);
        quantities = List.copyOf(quantities);
        adjustments = List.copyOf(adjustments);
    }

    /** A reported stretch of VPS time under a plan (a {@code vps_minutes} usage event), any power state. */
    public record VpsTime(UUID vpsId, UUID projectId, String plan, Instant start, Instant end) {
    }

    /** What a lifecycle event tells billing. */
    public enum LifecycleKind { CREATED, RESIZED, DELETED }

    /** A VPS lifecycle fact: created / resized to {@code plan} / deleted at {@code at}. */
    public record Lifecycle(UUID vpsId, UUID projectId, LifecycleKind kind, String plan, Instant at) {
    }

    /** Metered quantities a line is priced from. */
    public enum QuantityMetric { TRANSFER_BYTES, SNAPSHOT_GB_HOURS, VOLUME_GB_HOURS }

    /** A summed quantity of one resource in the period. */
    public record Quantity(UUID resourceId, UUID projectId, QuantityMetric metric, long quantity) {
    }

    /** A credit, promo code or manual adjustment landing on this period; negative amounts reduce the total. */
    public record Adjustment(UUID id, LineKind kind, String description, Currency currency, long amountMinor) {
        public Adjustment {
            if (!kind.isAdjustment()) {
                throw new RatingException("adjustment kind must be credit, promo or adjustment, got " + kind.wire());
            }
        }
    }
}
