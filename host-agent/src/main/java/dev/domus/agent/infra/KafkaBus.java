// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.infra;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.service.CommandService;
import dev.domus.agent.service.EventSink;
import dev.domus.api.events.EventCodec;
import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.InvalidEventException;
import dev.domus.api.events.Topics;
import dev.domus.api.events.UsageEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * Kafka for the agent with the plain client: one consumer thread on {@code domus.host-commands} (group
 * {@code host-agent-<host id>}, offsets committed only after a command was applied, so a crash re-delivers and
 * the command id dedupes), one idempotent producer for {@code domus.host-events} (key host id) and
 * {@code domus.usage} (key organization id). Events go through an in-memory outbox drained by one publisher
 * thread that waits for each broker ack and puts a record back at the head of the queue when the send fails (a
 * broker restart outlasting the client's own retries), so a result is delayed, never dropped while the agent
 * runs; callers never block on the broker. With Kafka disabled events are only logged.
 */
@ApplicationScoped
public class KafkaBus implements EventSink {
    private static final Logger LOG = Logger.getLogger(KafkaBus.class);

    private final AgentConfig config;
    private final Provider<CommandService> commands;
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile KafkaProducer<String, byte[]> producer;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Thread thread;
    private volatile Thread publisher;
    /** Records waiting for the broker, oldest first (bounded: a very long outage drops the newest, logged). */
    private final java.util.concurrent.LinkedBlockingDeque<ProducerRecord<String, byte[]>> outbox =
            new java.util.concurrent.LinkedBlockingDeque<>(100_000);
    private volatile boolean assigned;

    @Inject
    public KafkaBus(AgentConfig config, Provider<CommandService> commands) {
        this.config = config;
        this.commands = commands;
    }

    /** Starts the producer and the command consumer (no-op when Kafka is disabled). */
    public synchronized void start() {
        if (!config.kafka().enabled() || !running.compareAndSet(false, true)) {
            return;
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        // Retry across a broker restart instead of dropping events.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        // send() waits this long for topic metadata (only the publisher thread waits; a failure is retried by it).
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "120000");
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        publisher = Thread.ofPlatform().name("host-events-publisher").daemon().start(this::publishLoop);

        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "host-agent-" + config.hostId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "20");
        // Creates can take minutes on a loaded host; do not get kicked out of the group meanwhile.
        c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "900000");
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        thread = Thread.ofPlatform().name("host-commands").daemon().start(this::consumeLoop);
    }

    /** True once the consumer has its partitions (tests wait for it before sending). */
    public boolean isAssigned() {
        return assigned;
    }

    private void consumeLoop() {
        KafkaConsumer<String, byte[]> k = consumer;
        String hostKey = config.hostId().toString();
        try {
            k.subscribe(List.of(Topics.HOST_COMMANDS), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<org.apache.kafka.common.TopicPartition> parts) {
                    assigned = false;
                }

                @Override
                public void onPartitionsAssigned(java.util.Collection<org.apache.kafka.common.TopicPartition> parts) {
                    assigned = true;
                    LOG.infof("event=commands_assigned partitions=%s", parts);
                }
            });
            while (running.get()) {
                try {
                    var records = k.poll(Duration.ofMillis(500));
                    for (ConsumerRecord<String, byte[]> r : records) {
                        if (r.key() != null && !hostKey.equals(r.key())) {
                            continue;
                        }
                        try {
                            HostCommand cmd = EventCodec.read(r.value(), HostCommand.class);
                            commands.get().apply(cmd);
                        } catch (InvalidEventException e) {
                            LOG.warnf("event=command_invalid offset=%d error=\"%s\"", r.offset(), e.getMessage());
                        }
                    }
                    if (!records.isEmpty()) {
                        k.commitSync(Duration.ofSeconds(30));
                    }
                } catch (WakeupException e) {
                    throw e;
                } catch (org.apache.kafka.common.KafkaException e) {
                    // Broker away (restart) or a failed commit: the client reconnects by itself; an uncommitted
                    // command is delivered again and deduped by its command id.
                    LOG.warnf("event=command_consumer_retry error=\"%s\"", e.getMessage());
                    Thread.sleep(1000);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.errorf(e, "event=command_consumer_failed");
        } finally {
            k.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public void publish(HostEvent event) {
        LOG.infof("event=host_event type=%s vps=%s state=%s error_code=%s message=\"%s\"", event.type().wire(),
                event.vpsId().map(Object::toString).orElse("-"), event.vpsState().orElse("-"),
                event.errorCode().orElse("-"), event.errorMessage().orElse(""));
        if (producer != null) {
            enqueue(new ProducerRecord<>(Topics.HOST_EVENTS, event.hostId().toString(), EventCodec.write(event)));
        }
    }

    @Override
    public void publishUsage(UsageEvent event) {
        if (producer != null) {
            enqueue(new ProducerRecord<>(Topics.USAGE, event.organizationId().toString(), EventCodec.write(event)));
        }
    }

    /** Records not yet acknowledged by the broker (for status and tests). */
    public int pendingEvents() {
        return outbox.size();
    }

    private void enqueue(ProducerRecord<String, byte[]> rec) {
        if (!outbox.offerLast(rec)) {
            LOG.errorf("event=publish_dropped topic=%s reason=outbox_full size=%d", rec.topic(), outbox.size());
        }
    }

    /**
     * Sends the outbox in order, one acknowledged record at a time (the agent's volume is a few records per second,
     * so the round trip per record costs nothing and keeps the order); a failed record goes back to the head and is
     * retried after a backoff of 1 s doubling up to 30 s.
     */
    private void publishLoop() {
        long backoffMillis = 1000;
        try {
            while (running.get() || !outbox.isEmpty()) {
                ProducerRecord<String, byte[]> rec = outbox.pollFirst(500, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (rec == null) {
                    continue;
                }
                KafkaProducer<String, byte[]> p = producer;
                try {
                    p.send(rec).get();
                    backoffMillis = 1000;
                } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
                    Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
                    if (!running.get()) {
                        LOG.warnf("event=publish_dropped topic=%s reason=stopping pending=%d", rec.topic(),
                                outbox.size() + 1);
                        return;
                    }
                    outbox.offerFirst(rec);
                    LOG.warnf("event=publish_retry topic=%s pending=%d backoff_ms=%d error=\"%s\"", rec.topic(),
                            outbox.size(), backoffMillis, cause == null ? "" : cause.getMessage());
                    Thread.sleep(backoffMillis);
                    backoffMillis = Math.min(30_000, backoffMillis * 2);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @PreDestroy
    void stop() {
        running.set(false);
        KafkaConsumer<String, byte[]> k = consumer;
        if (k != null) {
            k.wakeup();
        }
        Thread t = thread;
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Thread pub = publisher;
        if (pub != null) {
            try {
                pub.join(5_000); // drains what the broker takes within 5 s
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pub.interrupt();
        }
        KafkaProducer<String, byte[]> p = producer;
        if (p != null) {
            p.close(Duration.ofSeconds(5));
        }
    }
}
