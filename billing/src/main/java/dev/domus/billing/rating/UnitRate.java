// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Currency;
import java.util.Objects;

/** A per-unit price (major units, exact) in one currency from {@code effectiveFrom} on. */
public record UnitRate(UnitItem item, Currency currency, Instant effectiveFrom, BigDecimal price) {
    public UnitRate {
        Objects.requireNonNull(item, "item");
        Objects.requireNonNull(currency, "currency");
        Objects.requireNonNull(effectiveFrom, "effectiveFrom");
        Objects.requireNonNull(price, "price");
        if (price.signum() < 0) {
            throw new RatingException("price must be >= 0 (" + item.wire() + ")");
        }
    }
}
