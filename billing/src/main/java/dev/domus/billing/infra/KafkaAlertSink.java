// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import dev.domus.api.events.BillingAlertEvent;
import dev.domus.api.events.EventCodec;
import dev.domus.api.events.Topics;
import dev.domus.billing.service.AlertSink;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Publishes billing alerts to {@code domus.billing-alerts}, key = organization id, waiting for the ack. */
@ApplicationScoped
public class KafkaAlertSink implements AlertSink {
    @Inject
    KafkaSender kafka;

    @Override
    public void send(BillingAlertEvent event) {
        kafka.sendAll(List.of(new ProducerRecord<>(Topics.BILLING_ALERTS,
                event.organizationId().toString().getBytes(StandardCharsets.UTF_8), EventCodec.write(event))),
                "billing alert");
    }
}
