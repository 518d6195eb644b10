// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import dev.domus.billing.rating.RatingInput.Adjustment;
import dev.domus.billing.rating.RatingInput.Lifecycle;
import dev.domus.billing.rating.RatingInput.LifecycleKind;
import dev.domus.billing.rating.RatingInput.Quantity;
import dev.domus.billing.rating.RatingInput.QuantityMetric;
import dev.domus.billing.rating.RatingInput.VpsTime;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Currency;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Rates one organization's month. Rules (also in {@code billing/README.md}):
 * <ul>
 * <li>VPS: every UTC clock hour in which a VPS existed under a plan (from a {@code vps_minutes} report, any power
 * state, or from its lifecycle: created/resized until deleted) is one started hour of that plan. A resize inside an
 * hour makes that hour a started hour of both plans. Hours are priced at the plan's hourly rate in force at the hour's
 * start; one line per VPS, plan and rate.</li>
 * <li>Monthly cap: a VPS never costs more in a month than the highest monthly price among the rates it used that
 * month; the excess is a separate negative {@code vps_cap} line.</li>
 * <li>Transfer: the organization's bytes over the pooled allowance (the sum, over VPSs billed in the month, of the
 * allowance of each VPS's capping rate) at the per-GB price in force at the start of the month.</li>
 * <li>Snapshots and volumes: GB-hours per resource / 730 at the GB-month price in force at the start of the month.</li>
 * <li>Adjustments: one line each, as given. Every line is rounded once, half up, to the currency's minor unit.</li>
 * </ul>
 */
public final class RatingEngine {
    /** GB-hours in a GB-month, the usual cloud convention (365 * 24 / 12). */
    public static final BigDecimal HOURS_PER_GB_MONTH = BigDecimal.valueOf(730);
    private static final BigDecimal BYTES_PER_GB = BigDecimal.valueOf(1_000_000_000L);
    private static final long SECONDS_PER_HOUR = 3600;

    private final PriceBook prices;

    public RatingEngine(PriceBook prices) {
        this.prices = prices;
    }

    public RatedInvoice rate(RatingInput in) {
        Currency cur = in.currency();
        BillingPeriod period = in.period();
        List<InvoiceLine> lines = new ArrayList<>();
        Map<UUID, VpsAcc> vpss = collectVpsHours(in);

        long poolGb = 0;
        for (Map.Entry<UUID, VpsAcc> e : vpss.entrySet()) {
            poolGb += rateVps(e.getKey(), e.getValue(), period, cur, lines);
        }
        rateTransfer(in, poolGb, lines);
        rateStorage(in, QuantityMetric.SNAPSHOT_GB_HOURS, UnitItem.SNAPSHOT_GB_MONTH, LineKind.SNAPSHOT, "snapshot",
                lines);
        rateStorage(in, QuantityMetric.VOLUME_GB_HOURS, UnitItem.VOLUME_GB_MONTH, LineKind.VOLUME, "volume", lines);

        long usage = 0;
        for (InvoiceLine l : lines) {
            usage += l.amountMinor();
        }
        long adjustments = 0;
        for (Adjustment a : in.adjustments()) {
            if (!a.currency().equals(cur)) {
                throw new RatingException("adjustment " + a.id() + " is in " + a.currency() + ", invoice is in " + cur);
            }
            lines.add(new InvoiceLine(0, a.kind(), a.description(), Optional.empty(), Optional.of(a.id()),
                    Optional.empty(), BigDecimal.ONE, "each", minorToMajor(a.amountMinor(), cur), a.amountMinor()));
            adjustments += a.amountMinor();
        }
        List<InvoiceLine> numbered = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            InvoiceLine l = lines.get(i);
            numbered.add(new InvoiceLine(i + 1, l.kind(), l.description(), l.projectId(), l.resourceId(), l.plan(),
                    l.quantity(), l.unit(), l.unitPrice(), l.amountMinor()));
        }
        return new RatedInvoice(in.organizationId(), period, cur, numbered, usage, adjustments,
                Math.addExact(usage, adjustments));
    }

    /** Rounds an exact major-unit amount once, half up, to minor units of the currency. */
    public static long toMinor(BigDecimal major, Currency cur) {
        return major.setScale(fractionDigits(cur), RoundingMode.HALF_UP).movePointRight(fractionDigits(cur))
                .longValueExact();
    }

    static BigDecimal minorToMajor(long minor, Currency cur) {
        return BigDecimal.valueOf(minor).movePointLeft(fractionDigits(cur));
    }

    static int fractionDigits(Currency cur) {
        int d = cur.getDefaultFractionDigits();
        if (d < 0) {
            throw new RatingException("currency " + cur + " has no minor unit");
        }
        return d;
    }

    /** Hours per VPS and plan as bit sets over the month's hours (bit i = hour i after the month's start). */
    private static final class VpsAcc {
        UUID projectId;
        final TreeMap<String, BitSet> hours = new TreeMap<>();
        Instant deletedAt = Instant.MAX;
    }

    private static Map<UUID, VpsAcc> collectVpsHours(RatingInput in) {
        BillingPeriod period = in.period();
        Instant ms = period.start();
        Instant me = period.end();
        TreeMap<UUID, VpsAcc> vpss = new TreeMap<>();
        TreeMap<UUID, List<Lifecycle>> lifeByVps = new TreeMap<>();
        for (Lifecycle l : in.lifecycle()) {
            lifeByVps.computeIfAbsent(l.vpsId(), k -> new ArrayList<>()).add(l);
            if (l.kind() == LifecycleKind.DELETED) {
                VpsAcc acc = vpss.computeIfAbsent(l.vpsId(), k -> new VpsAcc());
                if (l.at().isBefore(acc.deletedAt)) {
                    acc.deletedAt = l.at();
                }
            }
        }
        for (VpsTime t : in.vpsTime()) {
            VpsAcc acc = vpss.computeIfAbsent(t.vpsId(), k -> new VpsAcc());
            if (acc.projectId == null) {
                acc.projectId = t.projectId();
            }
            mark(acc, t.plan(), t.start(), min(t.end(), acc.deletedAt), ms, me);
        }
        for (Map.Entry<UUID, List<Lifecycle>> e : lifeByVps.entrySet()) {
            List<Lifecycle> events = e.getValue();
            events.sort(Comparator.comparing(Lifecycle::at).thenComparing(Lifecycle::kind));
            VpsAcc acc = vpss.computeIfAbsent(e.getKey(), k -> new VpsAcc());
            String plan = null;
            Instant from = null;
            for (Lifecycle l : events) {
                if (acc.projectId == null) {
                    acc.projectId = l.projectId();
                }
                if (plan != null) {
                    mark(acc, plan, from, min(l.at(), acc.deletedAt), ms, me);
                }
                if (l.kind() == LifecycleKind.DELETED) {
                    plan = null;
                    break;
                }
                plan = l.plan();
                from = l.at();
            }
            if (plan != null) {
                mark(acc, plan, from, min(min(in.asOf(), me), acc.deletedAt), ms, me);
            }
        }
        vpss.values().removeIf(a -> a.hours.isEmpty());
        return vpss;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /** Marks every hour of the month that [from, to) touches for a positive length. */
    private static void mark(VpsAcc acc, String plan, Instant from, Instant to, Instant ms, Instant me) {
        Instant s = from.isBefore(ms) ? ms : from;
        Instant e = to.isAfter(me) ? me : to;
        if (!e.isAfter(s)) {
            return;
        }
        long startSec = s.getEpochSecond() - ms.getEpochSecond();
        long endSec = e.getEpochSecond() - ms.getEpochSecond();
        boolean endOnSecond = e.getNano() == 0;
        int first = (int) (startSec / SECONDS_PER_HOUR);
        // [s, e) ends in the hour that contains the last instant before e.
        long lastSec = endOnSecond ? endSec - 1 : endSec;
        int last = (int) (lastSec / SECONDS_PER_HOUR);
        acc.hours.computeIfAbsent(plan, k -> new BitSet(744)).set(first, last + 1);
    }

    /** Adds the VPS's hour lines and its cap line; returns the transfer allowance (GB) it adds to the pool. */
    private long rateVps(UUID vps, VpsAcc acc, BillingPeriod period, Currency cur, List<InvoiceLine> lines) {
        Instant ms = period.start();
        PlanRate capRate = null;
        long sum = 0;
        for (Map.Entry<String, BitSet> e : acc.hours.entrySet()) {
            String plan = e.getKey();
            BitSet hours = e.getValue();
            LinkedHashMap<PlanRate, Integer> byRate = new LinkedHashMap<>();
            for (int h = hours.nextSetBit(0); h >= 0; h = hours.nextSetBit(h + 1)) {
                Instant at = ms.plusSeconds(h * SECONDS_PER_HOUR);
                PlanRate r = prices.plan(plan, cur, at).orElseThrow(() -> new RatingException(
                        "no price for plan " + plan + " in " + cur + " at " + at));
                byRate.merge(r, 1, Integer::sum);
            }
            for (Map.Entry<PlanRate, Integer> r : byRate.entrySet()) {
                PlanRate rate = r.getKey();
                int n = r.getValue();
                long amount = toMinor(rate.hourly().multiply(BigDecimal.valueOf(n)), cur);
                sum += amount;
                lines.add(new InvoiceLine(0, LineKind.VPS_HOURS, "VPS " + vps + " plan " + plan + ": " + n
                        + (n == 1 ? " hour" : " hours"), Optional.ofNullable(acc.projectId), Optional.of(vps),
                        Optional.of(plan), BigDecimal.valueOf(n), "hour", rate.hourly(), amount));
                if (capRate == null || rate.monthly().compareTo(capRate.monthly()) > 0) {
                    capRate = rate;
                }
            }
        }
        if (capRate == null) {
            return 0;
        }
        long cap = toMinor(capRate.monthly(), cur);
        if (sum > cap) {
            lines.add(new InvoiceLine(0, LineKind.VPS_CAP,
                    "VPS " + vps + " monthly cap (plan " + capRate.plan() + ")", Optional.ofNullable(acc.projectId),
                    Optional.of(vps), Optional.of(capRate.plan()), BigDecimal.ONE, "month", capRate.monthly(),
                    cap - sum));
        }
        return capRate.includedTransferGb();
    }

    private void rateTransfer(RatingInput in, long poolGb, List<InvoiceLine> lines) {
        long bytes = 0;
        for (Quantity q : in.quantities()) {
            if (q.metric() == QuantityMetric.TRANSFER_BYTES) {
                bytes = Math.addExact(bytes, q.quantity());
            }
        }
        if (bytes == 0) {
            return;
        }
        Currency cur = in.currency();
        BigDecimal pool = BigDecimal.valueOf(poolGb).multiply(BYTES_PER_GB);
        BigDecimal over = BigDecimal.valueOf(bytes).subtract(pool).max(BigDecimal.ZERO);
        BigDecimal overGb = over.divide(BYTES_PER_GB).stripTrailingZeros();
        Optional<UnitRate> rate = prices.unit(UnitItem.TRANSFER_GB, cur, in.period().start());
        if (over.signum() > 0 && rate.isEmpty()) {
            throw new RatingException("no transfer_gb price in " + cur + " at " + in.period().start());
        }
        BigDecimal price = rate.map(UnitRate::price).orElse(BigDecimal.ZERO);
        lines.add(new InvoiceLine(0, LineKind.TRANSFER, "transfer " + BigDecimal.valueOf(bytes).divide(BYTES_PER_GB)
                .stripTrailingZeros().toPlainString() + " GB, pooled allowance " + poolGb + " GB",
                Optional.empty(), Optional.empty(), Optional.empty(), overGb, "GB", price,
                toMinor(overGb.multiply(price), cur)));
    }

    private void rateStorage(RatingInput in, QuantityMetric metric, UnitItem item, LineKind kind, String what,
            List<InvoiceLine> lines) {
        TreeMap<UUID, long[]> byResource = new TreeMap<>();
        Map<UUID, UUID> project = new TreeMap<>();
        for (Quantity q : in.quantities()) {
            if (q.metric() == metric) {
                byResource.computeIfAbsent(q.resourceId(), k -> new long[1])[0] += q.quantity();
                project.putIfAbsent(q.resourceId(), q.projectId());
            }
        }
        Currency cur = in.currency();
        for (Map.Entry<UUID, long[]> e : byResource.entrySet()) {
            long gbh = e.getValue()[0];
            if (gbh == 0) {
                continue;
            }
            UnitRate rate = prices.unit(item, cur, in.period().start()).orElseThrow(() -> new RatingException(
                    "no " + item.wire() + " price in " + cur + " at " + in.period().start()));
            BigDecimal gbMonths = BigDecimal.valueOf(gbh).divide(HOURS_PER_GB_MONTH, 6, RoundingMode.HALF_UP);
            // One rounding: GB-hours * price / 730 straight to minor units.
            long amount = BigDecimal.valueOf(gbh).multiply(rate.price())
                    .divide(HOURS_PER_GB_MONTH, fractionDigits(cur), RoundingMode.HALF_UP)
                    .movePointRight(fractionDigits(cur)).longValueExact();
            lines.add(new InvoiceLine(0, kind, what + " " + e.getKey() + ": " + gbh + " GB-hours",
                    Optional.ofNullable(project.get(e.getKey())), Optional.of(e.getKey()), Optional.empty(),
                    gbMonths, "GB-month", rate.price(), amount));
        }
    }
}
