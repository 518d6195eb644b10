// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.math.BigDecimal;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * One invoice line. {@code quantity} and {@code unitPrice} are exact (for display and audit); {@code amountMinor} is
 * the only rounded figure, in minor units of the invoice currency.
 */
public record InvoiceLine(int lineNo, LineKind kind, String description, Optional<UUID> projectId,
        Optional<UUID> resourceId, Optional<String> plan, BigDecimal quantity, String unit, BigDecimal unitPrice,
        long amountMinor) {
    public InvoiceLine {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(projectId, "projectId");
        Objects.requireNonNull(resourceId, "resourceId");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(quantity, "quantity");
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(unitPrice, "unitPrice");
    }

    /** Equality of figures regardless of BigDecimal scale (a value read back from NUMERIC may carry another). */
    public boolean sameAs(InvoiceLine o) {
        return lineNo == o.lineNo && kind == o.kind && description.equals(o.description)
                && projectId.equals(o.projectId) && resourceId.equals(o.resourceId) && plan.equals(o.plan)
                && quantity.compareTo(o.quantity) == 0 && unit.equals(o.unit)
                && unitPrice.compareTo(o.unitPrice) == 0 && amountMinor == o.amountMinor;
    }
}
