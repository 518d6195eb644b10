// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Objects;

/** A billing period: one calendar month in UTC, [start, end). */
public record BillingPeriod(YearMonth month) implements Comparable<BillingPeriod> {
    public BillingPeriod {
        Objects.requireNonNull(month, "month");
    }

    /** The period containing an instant (UTC). */
    public static BillingPeriod of(Instant at) {
        return new BillingPeriod(YearMonth.from(at.atOffset(ZoneOffset.UTC)));
    }

    /** Parses {@code YYYY-MM}; a bad value throws {@link RatingException} saying what is wrong. */
    public static BillingPeriod parse(String s) {
        try {
            return new BillingPeriod(YearMonth.parse(s));
        } catch (DateTimeException | NullPointerException e) {
            throw new RatingException("period must be YYYY-MM, got " + s);
        }
    }

    public Instant start() {
        return month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    public Instant end() {
        return month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    /** Whole hours in the month (672..744). */
    public int hours() {
        return month.lengthOfMonth() * 24;
    }

    public BillingPeriod next() {
        return new BillingPeriod(month.plusMonths(1));
    }

    @Override
    public int compareTo(BillingPeriod o) {
        return month.compareTo(o.month);
    }

    @Override
    public String toString() {
        return month.toString();
    }
}
