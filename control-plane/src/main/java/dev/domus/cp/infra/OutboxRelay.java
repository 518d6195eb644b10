// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import dev.domus.api.events.Topics;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * Publishes outbox rows to Kafka: claims a batch with {@code FOR UPDATE SKIP LOCKED} (so replicas share the work),
 * sends it with an idempotent producer, waits for the acknowledgements and marks the rows published in the same
 * transaction. A crash between send and commit re-sends the batch: delivery is at least once and consumers dedupe
 * by command id.
 */
@ApplicationScoped
public class OutboxRelay {
    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    @Inject
    OutboxConfig config;
    @Inject
    EntityManager em;

    private final AtomicLong published = new AtomicLong();
    private volatile boolean running;
    private Thread thread;
    private KafkaProducer<String, String> producer;

    void start(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            return;
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(config.sendTimeout().toMillis()));
        long timeout = config.sendTimeout().toMillis();
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(timeout));
        // Kafka requires delivery >= linger + request timeout.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(timeout + 1000));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer = new KafkaProducer<>(p);
        running = true;
        thread = Thread.ofPlatform().name("outbox-relay").daemon().start(this::loop);
    }

    void stop(@Observes ShutdownEvent ev) {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close(java.time.Duration.ofSeconds(5));
        }
    }

    /** Rows published since start (for tests and metrics). */
    public long published() {
        return published.get();
    }

    private void loop() {
        createTopics();
        long backoff = config.pollInterval().toMillis();
        while (running) {
            try {
                int n = QuarkusTransaction.requiringNew().call(this::relayBatch);
                backoff = config.pollInterval().toMillis();
                if (n < config.batchSize()) {
                    TimeUnit.MILLISECONDS.sleep(backoff);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                LOG.warnf("event=outbox.relay_failed error=\"%s\" retry_ms=%d", e.getMessage(), backoff);
                try {
                    TimeUnit.MILLISECONDS.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(backoff * 2, 5000);
            }
        }
    }

    int relayBatch() {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery("SELECT id, topic, msg_key, payload FROM outbox WHERE published_at IS NULL "
                + "ORDER BY id LIMIT ?1 FOR UPDATE SKIP LOCKED").setParameter(1, config.batchSize()).getResultList();
        if (rows.isEmpty()) {
            return 0;
        }
        List<Future<?>> acks = new ArrayList<>(rows.size());
        List<Long> ids = new ArrayList<>(rows.size());
        for (Object[] r : rows) {
            ids.add(((Number) r[0]).longValue());
            acks.add(producer.send(new ProducerRecord<>((String) r[1], (String) r[2], (String) r[3])));
        }
        try {
            for (Future<?> f : acks) {
                f.get(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("kafka send failed: " + e, e);
        }
        em.createNativeQuery("UPDATE outbox SET published_at = now() WHERE id = ANY(?1)")
                .setParameter(1, ids.toArray(Long[]::new)).executeUpdate();
        published.addAndGet(rows.size());
        LOG.debugf("event=outbox.published count=%d", rows.size());
        return rows.size();
    }

    private void createTopics() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        try (Admin admin = Admin.create(p)) {
            var existing = admin.listTopics().names().get(10, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String t : List.of(Topics.HOST_COMMANDS, Topics.HOST_EVENTS, Topics.USAGE)) {
                if (!existing.contains(t)) {
                    missing.add(new NewTopic(t, 1, (short) 1));
                }
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // Topics may exist already (another replica) or be created by the operator; publishing will tell.
            LOG.infof("event=outbox.create_topics result=skipped reason=\"%s\"", e.getMessage());
        }
    }
}
