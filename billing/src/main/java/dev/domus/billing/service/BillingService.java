// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.rating.InvoiceLine;
import dev.domus.billing.rating.LineKind;
import dev.domus.billing.rating.PlanRate;
import dev.domus.billing.rating.PriceBook;
import dev.domus.billing.rating.RatedInvoice;
import dev.domus.billing.rating.RatingEngine;
import dev.domus.billing.rating.RatingException;
import dev.domus.billing.rating.RatingInput;
import dev.domus.billing.rating.RatingInput.Adjustment;
import dev.domus.billing.rating.RatingInput.Lifecycle;
import dev.domus.billing.rating.RatingInput.LifecycleKind;
import dev.domus.billing.rating.RatingInput.Quantity;
import dev.domus.billing.rating.RatingInput.QuantityMetric;
import dev.domus.billing.rating.RatingInput.VpsTime;
import dev.domus.billing.rating.UnitItem;
import dev.domus.billing.rating.UnitRate;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Currency;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Invoices and everything that changes what they say: rating input from the stored events, live drafts, period
 * close (finalize), adjustments, promo codes, price changes, account settings. A finalized period is never rated
 * again; the way to correct it is an adjustment on the open period.
 */
@ApplicationScoped
public class BillingService {
    private static final Logger LOG = Logger.getLogger(BillingService.class);

    @Inject
    AgroalDataSource ds;

    @Inject
    BillingConfig config;

    Clock clock = Clock.systemUTC();

    /** The account view: currency and alert threshold (defaults if billing has not stored one). */
    public record Account(UUID organizationId, Currency currency, Optional<Long> alertThresholdMinor) {
    }

    /** A plan price row of the price book. */
    public record PlanPrice(String plan, String currency, Instant effectiveFrom, BigDecimal hourly,
            BigDecimal monthly, long includedTransferGb) {
    }

    /** A unit price row of the price book. */
    public record UnitPrice(String item, String currency, Instant effectiveFrom, BigDecimal price) {
    }

    /** Raw metered quantities of one resource in a period, next to what they cost on the draft. */
    public record ResourceUsage(UUID resourceId, Optional<UUID> projectId, String metric, long quantity) {
    }

    public Instant now() {
        return clock.instant();
    }

    public BillingPeriod openPeriod() {
        return BillingPeriod.of(now());
    }

    // ----- reading -----

    public Account account(UUID org) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT currency, alert_threshold_minor FROM billing_account WHERE organization_id = ?")) {
            ps.setObject(1, org);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    long t = rs.getLong(2);
                    Optional<Long> threshold = rs.wasNull() ? Optional.empty() : Optional.of(t);
                    return new Account(org, Currency.getInstance(rs.getString(1).trim()), threshold);
                }
            }
            return new Account(org, Currency.getInstance(config.defaultCurrency()), Optional.empty());
        } catch (SQLException e) {
            throw db(e);
        }
    }

    public PriceBook priceBook() {
        List<PlanRate> plans = new ArrayList<>();
        List<UnitRate> units = new ArrayList<>();
        for (PlanPrice p : planPrices()) {
            plans.add(new PlanRate(p.plan(), Currency.getInstance(p.currency()), p.effectiveFrom(), p.hourly(),
                    p.monthly(), p.includedTransferGb()));
        }
        for (UnitPrice u : unitPrices()) {
            units.add(new UnitRate(UnitItem.fromWire(u.item()).orElseThrow(), Currency.getInstance(u.currency()),
                    u.effectiveFrom(), u.price()));
        }
        return PriceBook.of(plans, units);
    }

    public List<PlanPrice> planPrices() {
        List<PlanPrice> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT plan, currency, effective_from, hourly, monthly, included_transfer_gb FROM plan_price
                ORDER BY plan, currency, effective_from"""); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new PlanPrice(rs.getString(1), rs.getString(2).trim(), rs.getTimestamp(3).toInstant(),
                        rs.getBigDecimal(4).stripTrailingZeros(), rs.getBigDecimal(5).stripTrailingZeros(),
                        rs.getLong(6)));
            }
            return out;
        } catch (SQLException e) {
            throw db(e);
        }
    }

    public List<UnitPrice> unitPrices() {
        List<UnitPrice> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT item, currency, effective_from, price FROM unit_price ORDER BY item, currency, effective_from""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new UnitPrice(rs.getString(1), rs.getString(2).trim(), rs.getTimestamp(3).toInstant(),
                        rs.getBigDecimal(4).stripTrailingZeros()));
            }
            return out;
        } catch (SQLException e) {
            throw db(e);
        }
    }

    /** Loads what the engine needs for one organization and period from the stored events. */
    public RatingInput input(UUID org, BillingPeriod period, Instant asOf) {
        Currency cur = account(org).currency();
        Timestamp ms = Timestamp.from(period.start());
        Timestamp me = Timestamp.from(period.end());
        List<VpsTime> vps = new ArrayList<>();
        List<Quantity> quantities = new ArrayList<>();
        List<Lifecycle> lifecycle = new ArrayList<>();
        List<Adjustment> adjustments = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT resource_id, project_id, plan, period_start, period_end FROM usage_event
                    WHERE organization_id = ? AND period_start < ? AND period_end > ? AND metric = 'vps_minutes'""")) {
                ps.setObject(1, org);
                ps.setTimestamp(2, me);
                ps.setTimestamp(3, ms);
                ps.setFetchSize(10_000);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        vps.add(new VpsTime(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class),
                                rs.getString(3), rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant()));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT resource_id, min(project_id::text), metric, sum(quantity) FROM usage_event
                    WHERE organization_id = ? AND period_start >= ? AND period_start < ? AND metric <> 'vps_minutes'
                    GROUP BY resource_id, metric""")) {
                ps.setObject(1, org);
                ps.setTimestamp(2, ms);
                ps.setTimestamp(3, me);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        quantities.add(new Quantity(rs.getObject(1, UUID.class), UUID.fromString(rs.getString(2)),
                                QuantityMetric.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)),
                                rs.getBigDecimal(4).longValueExact()));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT vps_id, project_id, kind, plan, occurred_at FROM vps_lifecycle
                    WHERE organization_id = ? AND occurred_at < ?""")) {
                ps.setObject(1, org);
                ps.setTimestamp(2, me);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        lifecycle.add(new Lifecycle(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class),
                                LifecycleKind.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)), rs.getString(4),
                                rs.getTimestamp(5).toInstant()));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT id, kind, description, currency, amount_minor FROM adjustment
                    WHERE organization_id = ? AND period = ? ORDER BY created_at, id""")) {
                ps.setObject(1, org);
                ps.setDate(2, Date.valueOf(period.month().atDay(1)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        adjustments.add(new Adjustment(rs.getObject(1, UUID.class),
                                LineKind.fromWire(rs.getString(2)).orElseThrow(), rs.getString(3),
                                Currency.getInstance(rs.getString(4).trim()), rs.getLong(5)));
                    }
                }
            }
        } catch (SQLException e) {
            throw db(e);
        }
        return new RatingInput(org, cur, period, asOf, vps, lifecycle, quantities, adjustments);
    }

    /** The invoice of a period: finalized if closed, else a draft rated now from the stored usage. */
    public Invoice invoice(UUID org, BillingPeriod period) {
        Optional<Invoice> finalized = finalized(org, period);
        if (finalized.isPresent()) {
            return finalized.get();
        }
        if (period.compareTo(openPeriod()) > 0) {
            throw new BillingException(BillingException.Code.NOT_FOUND, "no invoice for future period " + period);
        }
        return draft(org, period);
    }

    /** Rates an unfinalized period as of now (capped at the period end). */
    public Invoice draft(UUID org, BillingPeriod period) {
        Instant now = now();
        Instant asOf = now.isBefore(period.end()) ? now : period.end();
        return new Invoice(Invoice.idFor(org, period), Invoice.Status.DRAFT, asOf, rate(input(org, period, asOf)));
    }

    private RatedInvoice rate(RatingInput in) {
        try {
            return new RatingEngine(priceBook()).rate(in);
        } catch (RatingException e) {
            throw new BillingException(BillingException.Code.CANNOT_RATE, e.getMessage(), e);
        }
    }

    /** Operator re-run of a period's rating: the same stored usage gives the same draft; closed periods refuse. */
    public Invoice rerun(UUID org, BillingPeriod period) {
        if (finalized(org, period).isPresent()) {
            throw new BillingException(BillingException.Code.PERIOD_CLOSED, "period " + period
                    + " is finalized and cannot be re-rated; add an adjustment to the open period instead");
        }
        return invoice(org, period);
    }

    /**
     * The open period's draft first, then last month's draft while it awaits close (if it has lines), then the
     * finalized invoices, newest first.
     */
    public List<Invoice> invoices(UUID org) {
        List<Invoice> out = new ArrayList<>();
        out.add(draft(org, openPeriod()));
        List<BillingPeriod> periods = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT period FROM invoice WHERE organization_id = ? ORDER BY period DESC")) {
            ps.setObject(1, org);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    periods.add(new BillingPeriod(java.time.YearMonth.from(rs.getDate(1).toLocalDate())));
                }
            }
        } catch (SQLException e) {
            throw db(e);
        }
        BillingPeriod last = new BillingPeriod(openPeriod().month().minusMonths(1));
        if (!periods.contains(last)) {
            Invoice d = draft(org, last);
            if (!d.rated().lines().isEmpty()) {
                out.add(d);
            }
        }
        for (BillingPeriod p : periods) {
            out.add(finalized(org, p).orElseThrow());
        }
        return out;
    }

    /** An invoice by id: the open or last period's draft, or a finalized one of this organization. */
    public Invoice invoiceById(UUID org, UUID id) {
        BillingPeriod open = openPeriod();
        for (BillingPeriod p : List.of(open, new BillingPeriod(open.month().minusMonths(1)))) {
            if (Invoice.idFor(org, p).equals(id)) {
                return invoice(org, p);
            }
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT period FROM invoice WHERE id = ? AND organization_id = ?")) {
            ps.setObject(1, id);
            ps.setObject(2, org);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return finalized(c, org, new BillingPeriod(java.time.YearMonth.from(rs.getDate(1).toLocalDate())))
                            .orElseThrow();
                }
            }
        } catch (SQLException e) {
            throw db(e);
        }
        throw new BillingException(BillingException.Code.NOT_FOUND, "no invoice " + id + " for organization " + org);
    }

    public Optional<Invoice> finalized(UUID org, BillingPeriod period) {
        try (Connection c = ds.getConnection()) {
            return finalized(c, org, period);
        } catch (SQLException e) {
            throw db(e);
        }
    }

    private static Optional<Invoice> finalized(Connection c, UUID org, BillingPeriod period) throws SQLException {
        UUID id;
        Currency cur;
        long usage;
        long adjustments;
        long total;
        Instant finalizedAt;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, currency, usage_minor, adjustments_minor, total_minor, finalized_at FROM invoice
                WHERE organization_id = ? AND period = ?""")) {
            ps.setObject(1, org);
            ps.setDate(2, Date.valueOf(period.month().atDay(1)));
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                id = rs.getObject(1, UUID.class);
                cur = Currency.getInstance(rs.getString(2).trim());
                usage = rs.getLong(3);
                adjustments = rs.getLong(4);
                total = rs.getLong(5);
                finalizedAt = rs.getTimestamp(6).toInstant();
            }
        }
        List<InvoiceLine> lines = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT line_no, kind, description, project_id, resource_id, plan, quantity, unit, unit_price,
                       amount_minor FROM invoice_line WHERE invoice_id = ? ORDER BY line_no""")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    lines.add(new InvoiceLine(rs.getInt(1), LineKind.fromWire(rs.getString(2)).orElseThrow(),
                            rs.getString(3), Optional.ofNullable(rs.getObject(4, UUID.class)),
                            Optional.ofNullable(rs.getObject(5, UUID.class)), Optional.ofNullable(rs.getString(6)),
                            rs.getBigDecimal(7).stripTrailingZeros(), rs.getString(8),
                            rs.getBigDecimal(9).stripTrailingZeros(), rs.getLong(10)));
                }
            }
        }
        return Optional.of(new Invoice(id, Invoice.Status.FINALIZED, finalizedAt,
                new RatedInvoice(org, period, cur, lines, usage, adjustments, total)));
    }

    // ----- period close -----

    /**
     * Finalizes a period that has ended: rates it as of its end and writes invoice and lines in one transaction.
     * After that the rows are immutable (database triggers).
     */
    public Invoice close(UUID org, BillingPeriod period) {
        if (!now().isAfter(period.end()) && !now().equals(period.end())) {
            throw new BillingException(BillingException.Code.CONFLICT, "period " + period
                    + " is still open until " + period.end());
        }
        if (finalized(org, period).isPresent()) {
            throw new BillingException(BillingException.Code.PERIOD_CLOSED, "period " + period + " is already finalized");
        }
        RatedInvoice r = rate(input(org, period, period.end()));
        UUID id = Invoice.idFor(org, period);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO invoice (id, organization_id, period, currency, status, usage_minor,
                                             adjustments_minor, total_minor) VALUES (?, ?, ?, ?, 'finalized', ?, ?, ?)
                        ON CONFLICT (organization_id, period) DO NOTHING""")) {
                    ps.setObject(1, id);
                    ps.setObject(2, org);
                    ps.setDate(3, Date.valueOf(period.month().atDay(1)));
                    ps.setString(4, r.currency().getCurrencyCode());
                    ps.setLong(5, r.usageMinor());
                    ps.setLong(6, r.adjustmentsMinor());
                    ps.setLong(7, r.totalMinor());
                    if (ps.executeUpdate() == 0) {
                        c.rollback();
                        throw new BillingException(BillingException.Code.PERIOD_CLOSED,
                                "period " + period + " is already finalized");
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO invoice_line (invoice_id, line_no, kind, description, project_id, resource_id,
                                                  plan, quantity, unit, unit_price, amount_minor)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
                    for (InvoiceLine l : r.lines()) {
                        ps.setObject(1, id);
                        ps.setInt(2, l.lineNo());
                        ps.setString(3, l.kind().wire());
                        ps.setString(4, l.description());
                        ps.setObject(5, l.projectId().orElse(null));
                        ps.setObject(6, l.resourceId().orElse(null));
                        ps.setString(7, l.plan().orElse(null));
                        ps.setBigDecimal(8, l.quantity());
                        ps.setString(9, l.unit());
                        ps.setBigDecimal(10, l.unitPrice());
                        ps.setLong(11, l.amountMinor());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw db(e);
        }
        LOG.infof("event=invoice.finalized org=%s period=%s total_minor=%d currency=%s lines=%d", org, period,
                r.totalMinor(), r.currency(), r.lines().size());
        return finalized(org, period).orElseThrow();
    }

    /** Organizations with anything billable in a period and no finalized invoice for it yet. */
    public List<UUID> unclosed(BillingPeriod period) {
        List<UUID> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT o FROM (
                    SELECT DISTINCT organization_id AS o FROM usage_event WHERE period_start < ? AND period_end > ?
                    UNION SELECT DISTINCT organization_id FROM vps_lifecycle WHERE occurred_at < ?
                    UNION SELECT DISTINCT organization_id FROM adjustment WHERE period = ?) x
                WHERE NOT EXISTS (SELECT 1 FROM invoice i WHERE i.organization_id = x.o AND i.period = ?)
                ORDER BY o""")) {
            Date p = Date.valueOf(period.month().atDay(1));
            ps.setTimestamp(1, Timestamp.from(period.end()));
            ps.setTimestamp(2, Timestamp.from(period.start()));
            ps.setTimestamp(3, Timestamp.from(period.end()));
            ps.setDate(4, p);
            ps.setDate(5, p);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getObject(1, UUID.class));
                }
            }
            return out;
        } catch (SQLException e) {
            throw db(e);
        }
    }

    /** Finalizes last month for every organization once the close grace has passed; returns how many. */
    public int closeDuePeriods() {
        BillingPeriod last = new BillingPeriod(openPeriod().month().minusMonths(1));
        if (now().isBefore(last.end().plus(config.closeGrace()))) {
            return 0;
        }
        int n = 0;
        for (UUID org : unclosed(last)) {
            try {
                Invoice inv = draft(org, last);
                if (inv.rated().lines().isEmpty()) {
                    continue;
                }
                close(org, last);
                n++;
            } catch (BillingException e) {
                LOG.errorf("event=invoice.close_failed org=%s period=%s code=%s error=\"%s\"", org, last,
                        e.code().wire(), e.getMessage());
            }
        }
        return n;
    }

    // ----- changes -----

    /**
     * Adds a credit, promo or manual adjustment to the open period (closed periods are never changed: a correction
     * of one is an adjustment here, optionally referencing the finalized invoice).
     */
    public UUID adjust(UUID org, LineKind kind, String description, long amountMinor, Optional<UUID> referenceInvoice,
            String createdBy) {
        if (!kind.isAdjustment()) {
            throw new BillingException(BillingException.Code.INVALID,
                    "kind must be credit, promo or adjustment, got " + kind.wire());
        }
        if (description == null || description.isBlank() || description.length() > 200) {
            throw new BillingException(BillingException.Code.INVALID, "description must be 1..200 characters");
        }
        if (kind == LineKind.CREDIT && amountMinor >= 0) {
            throw new BillingException(BillingException.Code.INVALID, "a credit must be negative, got " + amountMinor);
        }
        try (Connection c = ds.getConnection()) {
            return insertAdjustment(c, org, kind, description, amountMinor, referenceInvoice, createdBy);
        } catch (SQLException e) {
            throw db(e);
        }
    }

    private UUID insertAdjustment(Connection c, UUID org, LineKind kind, String description, long amountMinor,
            Optional<UUID> referenceInvoice, String createdBy) throws SQLException {
        if (referenceInvoice.isPresent()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM invoice WHERE id = ? AND organization_id = ?")) {
                ps.setObject(1, referenceInvoice.get());
                ps.setObject(2, org);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new BillingException(BillingException.Code.NOT_FOUND,
                                "no finalized invoice " + referenceInvoice.get() + " for organization " + org);
                    }
                }
            }
        }
        UUID id = UUID.randomUUID();
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO adjustment (id, organization_id, period, kind, description, currency, amount_minor,
                                        reference_invoice_id, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
            ps.setObject(1, id);
            ps.setObject(2, org);
            ps.setDate(3, Date.valueOf(openPeriod().month().atDay(1)));
            ps.setString(4, kind.wire());
            ps.setString(5, description);
            ps.setString(6, account(org).currency().getCurrencyCode());
            ps.setLong(7, amountMinor);
            ps.setObject(8, referenceInvoice.orElse(null));
            ps.setString(9, createdBy);
            ps.executeUpdate();
        }
        LOG.infof("event=adjustment.added org=%s kind=%s amount_minor=%d by=%s", org, kind.wire(), amountMinor,
                createdBy);
        return id;
    }

    /** Adds a plan price effective from a date; it may not reach back into a period before the open one. */
    public void addPlanPrice(PlanPrice p) {
        Currency cur = currency(p.currency());
        requireNotBeforeOpenPeriod(p.effectiveFrom());
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO plan_price (plan, currency, effective_from, hourly, monthly, included_transfer_gb)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            new PlanRate(p.plan(), cur, p.effectiveFrom(), p.hourly(), p.monthly(), p.includedTransferGb());
            ps.setString(1, p.plan());
            ps.setString(2, cur.getCurrencyCode());
            ps.setTimestamp(3, Timestamp.from(p.effectiveFrom()));
            ps.setBigDecimal(4, p.hourly());
            ps.setBigDecimal(5, p.monthly());
            ps.setLong(6, p.includedTransferGb());
            if (ps.executeUpdate() == 0) {
                throw new BillingException(BillingException.Code.CONFLICT, "a price for plan " + p.plan() + " in "
                        + cur + " from " + p.effectiveFrom() + " exists");
            }
        } catch (RatingException e) {
            throw new BillingException(BillingException.Code.INVALID, e.getMessage());
        } catch (SQLException e) {
            throw db(e);
        }
        LOG.infof("event=price.added plan=%s currency=%s from=%s hourly=%s monthly=%s", p.plan(), cur,
                p.effectiveFrom(), p.hourly().toPlainString(), p.monthly().toPlainString());
    }

    public void addUnitPrice(UnitPrice p) {
        Currency cur = currency(p.currency());
        UnitItem item = UnitItem.fromWire(p.item()).orElseThrow(() -> new BillingException(
                BillingException.Code.INVALID, "item must be transfer_gb, snapshot_gb_month or volume_gb_month"));
        requireNotBeforeOpenPeriod(p.effectiveFrom());
        if (p.price().signum() < 0) {
            throw new BillingException(BillingException.Code.INVALID, "price must be >= 0");
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO unit_price (item, currency, effective_from, price) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING""")) {
            ps.setString(1, item.wire());
            ps.setString(2, cur.getCurrencyCode());
            ps.setTimestamp(3, Timestamp.from(p.effectiveFrom()));
            ps.setBigDecimal(4, p.price());
            if (ps.executeUpdate() == 0) {
                throw new BillingException(BillingException.Code.CONFLICT, "a price for " + item.wire() + " in "
                        + cur + " from " + p.effectiveFrom() + " exists");
            }
        } catch (SQLException e) {
            throw db(e);
        }
    }

    private void requireNotBeforeOpenPeriod(Instant from) {
        if (from.isBefore(openPeriod().start())) {
            throw new BillingException(BillingException.Code.PERIOD_CLOSED, "effective_from " + from
                    + " lies in a closed period; prices may change from " + openPeriod().start() + " on");
        }
    }

    private static Currency currency(String code) {
        try {
            Currency c = Currency.getInstance(code);
            if (c.getDefaultFractionDigits() < 0) {
                throw new IllegalArgumentException();
            }
            return c;
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new BillingException(BillingException.Code.INVALID, "currency must be an ISO 4217 code, got "
                    + code);
        }
    }

    /** Sets the account currency (only before anything was invoiced or adjusted) and/or alert threshold. */
    public Account updateAccount(UUID org, Optional<String> currency, Optional<Optional<Long>> threshold) {
        Account now = account(org);
        Currency cur = currency.map(BillingService::currency).orElse(now.currency());
        if (!cur.equals(now.currency()) && hasInvoicesOrAdjustments(org)) {
            throw new BillingException(BillingException.Code.CONFLICT,
                    "the currency of an organization with invoices or adjustments cannot change");
        }
        Optional<Long> t = threshold.orElse(now.alertThresholdMinor());
        if (t.isPresent() && t.get() < 0) {
            throw new BillingException(BillingException.Code.INVALID, "alert threshold must be >= 0");
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO billing_account (organization_id, currency, alert_threshold_minor) VALUES (?, ?, ?)
                ON CONFLICT (organization_id) DO UPDATE SET currency = EXCLUDED.currency,
                    alert_threshold_minor = EXCLUDED.alert_threshold_minor, updated_at = now()""")) {
            ps.setObject(1, org);
            ps.setString(2, cur.getCurrencyCode());
            ps.setObject(3, t.orElse(null));
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db(e);
        }
        return account(org);
    }

    private boolean hasInvoicesOrAdjustments(UUID org) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT EXISTS (SELECT 1 FROM invoice WHERE organization_id = ?)
                    OR EXISTS (SELECT 1 FROM adjustment WHERE organization_id = ?)""")) {
            ps.setObject(1, org);
            ps.setObject(2, org);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw db(e);
        }
    }

    /** Creates a promo code worth a fixed amount, redeemable once per organization until {@code validUntil}. */
    public void createPromoCode(String code, String description, String currency, long amountMinor,
            Instant validUntil) {
        if (code == null || !code.matches("[A-Z0-9][A-Z0-9_-]{2,31}")) {
            throw new BillingException(BillingException.Code.INVALID,
                    "code must be 3..32 of A-Z, 0-9, '_' and '-', got " + code);
        }
        if (amountMinor <= 0) {
            throw new BillingException(BillingException.Code.INVALID, "amount must be > 0, got " + amountMinor);
        }
        Currency cur = currency(currency);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO promo_code (code, description, currency, amount_minor, valid_until)
                VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            ps.setString(1, code);
            ps.setString(2, description == null || description.isBlank() ? code : description);
            ps.setString(3, cur.getCurrencyCode());
            ps.setLong(4, amountMinor);
            ps.setTimestamp(5, Timestamp.from(validUntil));
            if (ps.executeUpdate() == 0) {
                throw new BillingException(BillingException.Code.CONFLICT, "promo code " + code + " exists");
            }
        } catch (SQLException e) {
            throw db(e);
        }
    }

    /** Redeems a promo code: one promo line on the open period, once per organization. */
    public UUID redeem(UUID org, String code, String by) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                String description;
                String currency;
                long amount;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT description, currency, amount_minor, valid_until FROM promo_code WHERE code = ?")) {
                    ps.setString(1, code);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new BillingException(BillingException.Code.NOT_FOUND, "no promo code " + code);
                        }
                        description = rs.getString(1);
                        currency = rs.getString(2).trim();
                        amount = rs.getLong(3);
                        if (rs.getTimestamp(4).toInstant().isBefore(now())) {
                            throw new BillingException(BillingException.Code.CONFLICT, "promo code " + code
                                    + " expired");
                        }
                    }
                }
                if (!currency.equals(account(org).currency().getCurrencyCode())) {
                    throw new BillingException(BillingException.Code.CONFLICT, "promo code " + code + " is in "
                            + currency + ", the account bills in " + account(org).currency());
                }
                UUID adj = insertAdjustment(c, org, LineKind.PROMO, "promo code " + code + ": " + description,
                        -amount, Optional.empty(), by);
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO promo_redemption (code, organization_id, adjustment_id) VALUES (?, ?, ?)
                        ON CONFLICT DO NOTHING""")) {
                    ps.setString(1, code);
                    ps.setObject(2, org);
                    ps.setObject(3, adj);
                    if (ps.executeUpdate() == 0) {
                        throw new BillingException(BillingException.Code.CONFLICT, "promo code " + code
                                + " was already redeemed by this organization");
                    }
                }
                c.commit();
                return adj;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw db(e);
        }
    }

    /** Raw quantities per resource and metric of a period (the usage summary's "what was measured"). */
    public List<ResourceUsage> usage(UUID org, BillingPeriod period) {
        List<ResourceUsage> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT resource_id, min(project_id::text), metric, sum(quantity) FROM usage_event
                WHERE organization_id = ? AND period_start >= ? AND period_start < ?
                GROUP BY resource_id, metric ORDER BY resource_id, metric""")) {
            ps.setObject(1, org);
            ps.setTimestamp(2, Timestamp.from(period.start()));
            ps.setTimestamp(3, Timestamp.from(period.end()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ResourceUsage(rs.getObject(1, UUID.class),
                            Optional.ofNullable(rs.getString(2)).map(UUID::fromString), rs.getString(3),
                            rs.getBigDecimal(4).longValueExact()));
                }
            }
            return out;
        } catch (SQLException e) {
            throw db(e);
        }
    }

    /** Organizations that have an alert threshold. */
    public List<Account> accountsWithThreshold() {
        List<Account> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT organization_id, currency, alert_threshold_minor FROM billing_account
                WHERE alert_threshold_minor IS NOT NULL ORDER BY organization_id""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Account(rs.getObject(1, UUID.class), Currency.getInstance(rs.getString(2).trim()),
                        Optional.of(rs.getLong(3))));
            }
            return out;
        } catch (SQLException e) {
            throw db(e);
        }
    }

    static BillingException db(SQLException e) {
        return new BillingException(BillingException.Code.UNAVAILABLE, "database: " + e.getMessage(), e);
    }
}
