// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import dev.domus.cp.service.ActionService;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Fails actions past their deadline ({@code domus.actions.timeout.*}) every {@code domus.actions.sweep-interval}.
 * Each action ends in its own transaction under the server's row lock, so replicas sweeping at once, or a host
 * outcome arriving at the same moment, end it exactly once.
 */
@ApplicationScoped
public class ActionSweeper {
    private static final Logger LOG = Logger.getLogger(ActionSweeper.class);
    private static final int BATCH = 100;

    @Inject
    ActionService actions;

    @Scheduled(every = "${domus.actions.sweep-interval:5s}", delayed = "${domus.actions.sweep-interval:5s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        int ended = 0;
        List<UUID> due = actions.expired(BATCH);
        for (UUID id : due) {
            try {
                if (actions.expire(id)) {
                    ended++;
                }
            } catch (RuntimeException e) {
                // One bad row must not stop the others; it is retried on the next sweep.
                LOG.errorf(e, "event=action.sweep_failed action=%s", id);
            }
        }
        if (ended > 0) {
            LOG.infof("event=action.swept due=%d expired=%d", due.size(), ended);
        }
    }
}
