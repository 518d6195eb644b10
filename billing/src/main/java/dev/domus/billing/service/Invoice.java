// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.rating.RatedInvoice;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * An invoice: a draft rated live for a period that is not finalized yet (figures as of {@code asOf}), or a
 * finalized one read back from its immutable rows. Both carry the same id, derived from organization and period.
 */
public record Invoice(UUID id, Status status, Instant asOf, RatedInvoice rated) {
    /** Draft while the period is open, finalized at close. */
    public enum Status { DRAFT, FINALIZED }

    public static UUID idFor(UUID organizationId, BillingPeriod period) {
        return UUID.nameUUIDFromBytes(("invoice|" + organizationId + "|" + period).getBytes(StandardCharsets.UTF_8));
    }
}
