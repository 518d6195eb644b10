// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import dev.domus.api.events.Topics;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
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

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private KafkaProducer<byte[], byte[]> producer;

    private synchronized KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            producer = new KafkaProducer<>(p);
        }
        return producer;
    }

    /** Sends all and waits for the broker's acks; throws if any was not written. */
    public void send(List<Dead> dead) {
        KafkaProducer<byte[], byte[]> p = producer();
        List<Future<RecordMetadata>> acks = new ArrayList<>(dead.size());
        for (Dead d : dead) {
            ConsumerRecord<byte[], byte[]> r = d.record();
            String reason = d.reason().length() > 1000 ? d.reason().substring(0, 1000) : d.reason();
            ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(Topics.USAGE_DLQ, null, r.key(), r.value(),
                    List.of(new RecordHeader(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8)),
                            new RecordHeader(SOURCE_HEADER, (r.topic() + "/" + r.partition() + "/" + r.offset())
                                    .getBytes(StandardCharsets.UTF_8))));
            acks.add(p.send(out));
            LOG.warnf("event=usage.dead_lettered source=%s/%d/%d reason=\"%s\"", r.topic(), r.partition(),
                    r.offset(), reason);
        }
        try {
            for (Future<RecordMetadata> f : acks) {
                f.get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("dead-letter send failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending dead letters", e);
        }
    }

    @PreDestroy
    synchronized void close() {
        if (producer != null) {
            producer.close();
        }
    }
}
