// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Currency;
import java.util.Objects;

/**
 * A plan's price in one currency from {@code effectiveFrom} on: hourly price, monthly cap per VPS (both in major
 * units, exact) and the transfer the plan adds to the organization's pooled allowance each month.
 */
public record PlanRate(String plan, Currency currency, Instant effectiveFrom, BigDecimal hourly, BigDecimal monthly,
        long includedTransferGb) {
    public PlanRate {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(currency, "currency");
        Objects.requireNonNull(effectiveFrom, "effectiveFrom");
        Objects.requireNonNull(hourly, "hourly");
        Objects.requireNonNull(monthly, "monthly");
        if (plan.isBlank()) {
            throw new RatingException("plan must not be blank");
        }
        if (hourly.signum() < 0 || monthly.signum() < 0 || includedTransferGb < 0) {
            throw new RatingException("prices and allowance must be >= 0 (plan " + plan + ")");
        }
    }
}
