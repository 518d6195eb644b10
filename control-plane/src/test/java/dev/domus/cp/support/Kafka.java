// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.support;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;

/** Plays the host agent in tests: reads host commands from and sends host events to the real broker. */
public final class Kafka {
    private Kafka() {
    }

    static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    public static void send(HostEvent e) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p)) {
            producer.send(new ProducerRecord<>(Topics.HOST_EVENTS, e.hostId().toString(), EventCodec.write(e)))
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** Host commands matching {@code want}, reading the topic from the start until one matches or time runs out. */
    public static List<HostCommand> commands(Predicate<HostCommand> want, Duration timeout) {
        return commands(want, 1, timeout);
    }

    /**
     * Host commands matching {@code want}, reading the topic from the start until at least {@code atLeast} matched
     * (a re-published command appears once per publication) or time runs out.
     */
    public static List<HostCommand> commands(Predicate<HostCommand> want, int atLeast, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<HostCommand> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(Topics.HOST_COMMANDS));
            while (System.nanoTime() < deadline && out.size() < atLeast) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    HostCommand cmd = EventCodec.read(r.value(), HostCommand.class);
                    if (want.test(cmd)) {
                        if (!r.key().equals(cmd.hostId().toString())) {
                            throw new AssertionError("host command keyed " + r.key() + " but for host " + cmd.hostId());
                        }
                        out.add(cmd);
                    }
                }
            }
        }
        return out;
    }
}
