// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import dev.domus.cp.service.IdempotencyService;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import org.jboss.logging.Logger;

/** Forgets Idempotency-Keys after 24 hours (the retention the API documents). */
@ApplicationScoped
public class IdempotencyJanitor {
    private static final Logger LOG = Logger.getLogger(IdempotencyJanitor.class);
    private static final Duration RETENTION = Duration.ofHours(24);

    @Inject
    IdempotencyService idempotency;

    @Scheduled(every = "1h", delayed = "1m", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void expire() {
        int n = idempotency.expire(RETENTION);
        if (n > 0) {
            LOG.infof("event=idempotency.expired count=%d", n);
        }
    }
}
