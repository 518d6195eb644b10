// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.Topics;
import dev.domus.api.events.UsageMetric;
import dev.domus.billing.TestStreams;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** Malformed and unknown-version documents go to the dead-letter topic with their reason; the stream goes on. */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "billing"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = TestStreams.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class DeadLetterTest {
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    AgroalDataSource ds;

    @Inject
    UsageConsumer consumer;

    @Test
    void badDocumentsAreDeadLetteredWithTheReasonAndTheStreamContinues() throws Exception {
        consumer.start();
        UUID org = UUID.randomUUID();
        byte[] key = org.toString().getBytes(StandardCharsets.UTF_8);
        Instant a = Instant.parse("2026-11-20T10:00:00Z");
        Instant b = Instant.parse("2026-11-20T11:00:00Z");
        UUID vps = UUID.randomUUID();
        String good = EventCodec.writeString(TestStreams.usage(org, UUID.randomUUID(), vps, UsageMetric.VPS_MINUTES,
                60, "s-1", a, b));
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("{not json", "invalid UsageEvent");
        bad.put(good.replace("\"schema_version\":1", "\"schema_version\":2"), "unsupported schema_version 2");
        bad.put(good.replace("vps_minutes", "gpu_minutes"), "unknown usage metric: gpu_minutes");
        bad.put(good.replace(",\"plan\":\"s-1\"", ""), "vps_minutes needs plan");
        bad.put(good.replace("\"quantity\":60", "\"quantity\":-1"), "quantity must be >= 0");
        bad.put(good.replace("}", ",\"surprise\":true}"), "surprise");
        try (KafkaProducer<byte[], byte[]> p = TestStreams.producer(bootstrap)) {
            for (String doc : bad.keySet()) {
                p.send(new ProducerRecord<>(Topics.USAGE, key, doc.getBytes(StandardCharsets.UTF_8)))
                        .get(30, TimeUnit.SECONDS);
            }
            p.send(new ProducerRecord<>(Topics.USAGE, key, good.getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
        }

        List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-test-" + org);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            c.subscribe(List.of(Topics.USAGE_DLQ));
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (dead.size() < bad.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (new String(r.key(), StandardCharsets.UTF_8).equals(org.toString())) {
                        dead.add(r);
                    }
                }
            }
        }
        assertThat(dead).hasSize(bad.size());
        List<String> docs = new ArrayList<>(bad.keySet());
        for (int i = 0; i < dead.size(); i++) {
            ConsumerRecord<byte[], byte[]> r = dead.get(i);
            assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo(docs.get(i));
            String reason = new String(r.headers().lastHeader(DeadLetters.REASON_HEADER).value(),
                    StandardCharsets.UTF_8);
            assertThat(reason).contains(bad.get(docs.get(i)));
            assertThat(new String(r.headers().lastHeader(DeadLetters.SOURCE_HEADER).value(), StandardCharsets.UTF_8))
                    .startsWith(Topics.USAGE + "/");
        }
        // The valid event after the bad ones was stored.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long n = 0;
        while (n == 0 && System.nanoTime() < deadline) {
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM usage_event WHERE organization_id = ?")) {
                ps.setObject(1, org);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n = rs.getLong(1);
                }
            }
            Thread.sleep(100);
        }
        assertThat(n).isEqualTo(1);
    }
}
