// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The one Kafka producer billing writes with (dead letters, alerts): idempotent, {@code acks=all}, created on first
 * use so a billing without a broker still starts; {@link #sendAll} returns only once the broker acknowledged every
 * record, because callers commit their own effect (an offset, an alert row) only after that.
 */
@ApplicationScoped
class KafkaSender {
    private static final long ACK_TIMEOUT_SECONDS = 30;

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

    /** Sends all records and waits for their acks; {@code what} names them in the error if one was not written. */
    void sendAll(List<ProducerRecord<byte[], byte[]>> records, String what) {
        KafkaProducer<byte[], byte[]> p = producer();
        List<Future<RecordMetadata>> acks = new ArrayList<>(records.size());
        for (ProducerRecord<byte[], byte[]> r : records) {
            acks.add(p.send(r));
        }
        try {
            for (Future<RecordMetadata> f : acks) {
                f.get(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(what + " send failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending " + what, e);
        }
    }

    @PreDestroy
    synchronized void close() {
        if (producer != null) {
            producer.close();
        }
    }
}
