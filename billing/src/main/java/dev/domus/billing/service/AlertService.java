// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import dev.domus.api.events.BillingAlertEvent;
import io.agroal.api.AgroalDataSource;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Billing alerts: when an organization's month-to-date total reaches its threshold, one row per (organization,
 * period, threshold) is inserted (the unique key makes it once per crossing) and then relayed to the sink; rows not
 * yet delivered are retried on the next round, so an alert is sent at least once and created exactly once.
 */
@ApplicationScoped
public class AlertService {
    private static final Logger LOG = Logger.getLogger(AlertService.class);

    @Inject
    BillingService billing;

    @Inject
    AgroalDataSource ds;

    @Inject
    AlertSink sink;

    @Scheduled(every = "${domus.billing.alerts.interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            delayed = "5s")
    void tick() {
        try {
            check();
            relay();
        } catch (RuntimeException e) {
            LOG.errorf("event=alerts.round_failed error=\"%s\"", e.getMessage());
        }
    }

    /** Records new crossings; returns how many. */
    public int check() {
        int n = 0;
        for (BillingService.Account a : billing.accountsWithThreshold()) {
            long threshold = a.alertThresholdMinor().orElseThrow();
            Invoice draft;
            try {
                draft = billing.draft(a.organizationId(), billing.openPeriod());
            } catch (BillingException e) {
                LOG.warnf("event=alerts.cannot_rate org=%s error=\"%s\"", a.organizationId(), e.getMessage());
                continue;
            }
            long mtd = draft.rated().totalMinor();
            if (mtd < threshold) {
                continue;
            }
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO billing_alert (id, organization_id, period, currency, threshold_minor,
                                               month_to_date_minor) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (organization_id, period, threshold_minor) DO NOTHING""")) {
                ps.setObject(1, UUID.randomUUID());
                ps.setObject(2, a.organizationId());
                ps.setDate(3, Date.valueOf(draft.rated().period().month().atDay(1)));
                ps.setString(4, draft.rated().currency().getCurrencyCode());
                ps.setLong(5, threshold);
                ps.setLong(6, mtd);
                if (ps.executeUpdate() == 1) {
                    n++;
                    LOG.infof("event=alert.crossed org=%s period=%s threshold_minor=%d month_to_date_minor=%d",
                            a.organizationId(), draft.rated().period(), threshold, mtd);
                }
            } catch (SQLException e) {
                throw BillingService.db(e);
            }
        }
        return n;
    }

    /** Sends undelivered alerts; returns how many were delivered. */
    public int relay() {
        List<BillingAlertEvent> pending = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT id, organization_id, period, currency, threshold_minor, month_to_date_minor, created_at
                FROM billing_alert WHERE sent_at IS NULL ORDER BY created_at LIMIT 100""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                pending.add(new BillingAlertEvent(BillingAlertEvent.currentVersion(), rs.getObject(1, UUID.class),
                        rs.getObject(2, UUID.class), YearMonth.from(rs.getDate(3).toLocalDate()).toString(),
                        rs.getString(4).trim(), rs.getLong(5), rs.getLong(6), rs.getTimestamp(7).toInstant()));
            }
        } catch (SQLException e) {
            throw BillingService.db(e);
        }
        int sent = 0;
        for (BillingAlertEvent e : pending) {
            sink.send(e);
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "UPDATE billing_alert SET sent_at = now() WHERE id = ?")) {
                ps.setObject(1, e.eventId());
                ps.executeUpdate();
            } catch (SQLException ex) {
                throw BillingService.db(ex);
            }
            sent++;
        }
        return sent;
    }
}
