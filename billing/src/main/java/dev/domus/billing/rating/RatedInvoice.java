// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.util.Currency;
import java.util.List;
import java.util.UUID;

/** The engine's result for one organization and period: ordered lines and their sums in minor units. */
public record RatedInvoice(UUID organizationId, BillingPeriod period, Currency currency, List<InvoiceLine> lines,
        long usageMinor, long adjustmentsMinor, long totalMinor) {
    public RatedInvoice {
        lines = List.copyOf(lines);
    }

    /** Same lines and sums, comparing quantities and prices by value. */
    public boolean sameAs(RatedInvoice o) {
        if (!organizationId.equals(o.organizationId) || !period.equals(o.period) || !currency.equals(o.currency)
                || usageMinor != o.usageMinor || adjustmentsMinor != o.adjustmentsMinor
                || totalMinor != o.totalMinor || lines.size() != o.lines.size()) {
            return false;
        }
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).sameAs(o.lines.get(i))) {
                return false;
            }
        }
        return true;
    }
}
