// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.time.Instant;
import java.util.Collection;
import java.util.Currency;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Effective-dated prices: the price at an instant is the entry with the latest {@code effectiveFrom <= instant}. */
public final class PriceBook {
    private final Map<String, TreeMap<Instant, PlanRate>> plans = new HashMap<>();
    private final Map<String, TreeMap<Instant, UnitRate>> units = new HashMap<>();

    private PriceBook() {
    }

    public static PriceBook of(Collection<PlanRate> planRates, Collection<UnitRate> unitRates) {
        PriceBook b = new PriceBook();
        for (PlanRate r : planRates) {
            b.plans.computeIfAbsent(r.plan() + "|" + r.currency(), k -> new TreeMap<>()).put(r.effectiveFrom(), r);
        }
        for (UnitRate r : unitRates) {
            b.units.computeIfAbsent(r.item() + "|" + r.currency(), k -> new TreeMap<>()).put(r.effectiveFrom(), r);
        }
        return b;
    }

    public Optional<PlanRate> plan(String plan, Currency currency, Instant at) {
        TreeMap<Instant, PlanRate> m = plans.get(plan + "|" + currency);
        if (m == null) {
            return Optional.empty();
        }
        Map.Entry<Instant, PlanRate> e = m.floorEntry(at);
        return e == null ? Optional.empty() : Optional.of(e.getValue());
    }

    public Optional<UnitRate> unit(UnitItem item, Currency currency, Instant at) {
        TreeMap<Instant, UnitRate> m = units.get(item + "|" + currency);
        if (m == null) {
            return Optional.empty();
        }
        Map.Entry<Instant, UnitRate> e = m.floorEntry(at);
        return e == null ? Optional.empty() : Optional.of(e.getValue());
    }
}
