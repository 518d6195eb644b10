// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Finalizes last month's invoices once the close grace has passed (idempotent: finalized ones are skipped). Runs
 * every {@code domus.billing.close-every} ({@code off} disables it, as the tests do to close periods themselves).
 */
@ApplicationScoped
public class PeriodCloser {
    private static final Logger LOG = Logger.getLogger(PeriodCloser.class);

    @Inject
    BillingService billing;

    @Scheduled(every = "${domus.billing.close-every}", delayed = "30s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        try {
            int n = billing.closeDuePeriods();
            if (n > 0) {
                LOG.infof("event=periods.closed invoices=%d", n);
            }
        } catch (RuntimeException e) {
            LOG.errorf("event=periods.close_failed error=\"%s\"", e.getMessage());
        }
    }
}
