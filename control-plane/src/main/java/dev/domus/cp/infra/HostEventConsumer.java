// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.InvalidEventException;
import dev.domus.cp.service.HostEventService;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Consumes {@code domus.host-events}. Invalid documents are logged and skipped (they never become valid); a
 * database failure is retried a few times before the event is skipped, since the agent's periodic full state report
 * repairs anything missed.
 */
@ApplicationScoped
public class HostEventConsumer {
    private static final Logger LOG = Logger.getLogger(HostEventConsumer.class);
    private static final int ATTEMPTS = 5;

    @Inject
    HostEventService events;

    @Incoming("host-events")
    @Blocking(ordered = true)
    public void consume(byte[] payload) {
        HostEvent e;
        try {
            e = EventCodec.read(payload, HostEvent.class);
        } catch (InvalidEventException ex) {
            LOG.warnf("event=host_event.invalid error=\"%s\"", ex.getMessage());
            return;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                events.apply(e);
                return;
            } catch (RuntimeException ex) {
                if (attempt == ATTEMPTS) {
                    LOG.errorf("event=host_event.dropped id=%s type=%s error=\"%s\"", e.eventId(), e.type().wire(),
                            ex.getMessage());
                    return;
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(100L << attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
