// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import dev.domus.stack.quarkus.KafkaTestResource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaServiceIT {

    private static KafkaService kafka;

    @BeforeAll
    static void startBroker() {
        kafka = KafkaTestResource.service();
        System.out.println("kafka ready in " + kafka.startedIn().toMillis() + " ms (fresh log dir, after format)");
    }

    @AfterAll
    static void noOp() {
        // The broker is JVM-wide (KafkaTestResource): its shutdown hook stops it.
    }

    @Test
    void producesAndConsumesAcrossABrokerRestart() throws Exception {
        kafka.createTopic("domus.test-events", 2);
        kafka.createTopic("domus.test-events", 2); // idempotent
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>("domus.test-events", "host-" + i, "event-" + i))
                        .get(60, TimeUnit.SECONDS);
            }
            try (KafkaConsumer<String, String> consumer = consumer("g1")) {
                assertThat(values(pollUntil(consumer, 3))).containsExactlyInAnyOrder("event-0", "event-1", "event-2");
                consumer.commitSync(Duration.ofSeconds(30));
            }

            long pidBefore = kafka.pid();
            kafka.restart();
            System.out.println("kafka ready in " + kafka.startedIn().toMillis() + " ms (restart, existing log dir)");
            assertThat(kafka.pid()).isNotEqualTo(pidBefore);

            // The same producer reconnects to the restarted broker on the same port.
            producer.send(new ProducerRecord<>("domus.test-events", "host-9", "after-restart"))
                    .get(120, TimeUnit.SECONDS);
        }
        // Committed offsets survived: the old group sees only the new record ...
        try (KafkaConsumer<String, String> consumer = consumer("g1")) {
            assertThat(values(pollUntil(consumer, 1))).containsExactly("after-restart");
        }
        // ... and the data did too: a new group reads all four from the start.
        try (KafkaConsumer<String, String> consumer = consumer("g2")) {
            assertThat(values(pollUntil(consumer, 4)))
                    .containsExactlyInAnyOrder("event-0", "event-1", "event-2", "after-restart");
        }
    }

    @Test
    void testResourceReturnsBootstrapServersAndCreatesTopics() throws Exception {
        KafkaTestResource r = new KafkaTestResource();
        r.init(Map.of("topics", "domus.host-commands:3, domus.usage"));
        Map<String, String> config = r.start();
        assertThat(config).containsEntry("kafka.bootstrap.servers", kafka.bootstrapServers())
                .containsEntry("mp.messaging.connector.smallrye-kafka.bootstrap.servers", kafka.bootstrapServers());
        try (var admin = org.apache.kafka.clients.admin.Admin.create(
                Map.<String, Object>of("bootstrap.servers", kafka.bootstrapServers()))) {
            var topics = admin.describeTopics(List.of("domus.host-commands", "domus.usage")).allTopicNames()
                    .get(60, TimeUnit.SECONDS);
            assertThat(topics.get("domus.host-commands").partitions()).hasSize(3);
            assertThat(topics.get("domus.usage").partitions()).hasSize(1);
        }
    }

    @Test
    void badTopicInputIsRejected() {
        assertThatThrownBy(() -> kafka.createTopic("bad topic", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("topic name must match");
        assertThatThrownBy(() -> kafka.createTopic("ok", 0)).hasMessage("partitions must be 1..1000, got 0");
    }

    @Test
    void portTakenIsAClearOneLineError(@TempDir Path tmp) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> KafkaService.start(StackOptions.in(tmp).withPort(port)))
                    .isInstanceOfSatisfying(StackException.class, e -> assertThat(e.oneLine())
                            .isEqualTo("kafka: port " + port + " on 127.0.0.1 is already in use"));
        }
    }

    private static KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    private static KafkaConsumer<String, String> consumer(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        c.subscribe(List.of("domus.test-events"));
        return c;
    }

    /** Polls until {@code n} records arrived (2 min at most), then briefly more to catch unexpected extras. */
    private static List<ConsumerRecord<String, String>> pollUntil(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (got.size() < n && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(500)).forEach(got::add);
        }
        c.poll(Duration.ofMillis(500)).forEach(got::add);
        assertThat(got).as("records received before the deadline").hasSizeGreaterThanOrEqualTo(n);
        return got;
    }

    private static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }
}
