// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import dev.domus.api.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.jboss.logging.Logger;

/**
 * Sends documents billing cannot accept to {@code domus.usage.dlq}: the original key and bytes, the reason in header
 * {@code domus.dlq.reason} and where it came from in {@code domus.dlq.source} ({@code topic/partition/offset}).
 */
@ApplicationScoped
public class DeadLetters {
    private static final Logger LOG = Logger.getLogger(DeadLetters.class);
    public static final String REASON_HEADER = "domus.dlq.reason";
    public static final String SOURCE_HEADER = "domus.dlq.source";

    /** A refused record and why. */
    public record Dead(ConsumerRecord<byte[], byte[]> record, String reason) {
    }

    @Inject
    KafkaSender kafka;

    /** Sends all and waits for the broker's acks; throws if any was not written. */
    public void send(List<Dead> dead) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(dead.size());
        for (Dead d : dead) {
            ConsumerRecord<byte[], byte[]> r = d.record();
            String reason = d.reason().length() > 1000 ? d.reason().substring(0, 1000) : d.reason();
            out.add(new ProducerRecord<>(Topics.USAGE_DLQ, null, r.key(), r.value(),
                    List.of(new RecordHeader(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8)),
                            new RecordHeader(SOURCE_HEADER, (r.topic() + "/" + r.partition() + "/" + r.offset())
                                    .getBytes(StandardCharsets.UTF_8)))));
            LOG.warnf("event=usage.dead_lettered source=%s/%d/%d reason=\"%s\"", r.topic(), r.partition(),
                    r.offset(), reason);
        }
        kafka.sendAll(out, "dead-letter");
    }
}
