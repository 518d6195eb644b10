// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.InvalidEventException;
import dev.domus.api.events.Topics;
import dev.domus.api.events.UsageEvent;
import dev.domus.api.events.UsageMetric;
import dev.domus.api.events.VpsLifecycleEvent;
import dev.domus.billing.service.BillingConfig;
import dev.domus.billing.service.IngestService;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Consumes {@code domus.usage} and {@code domus.vps-lifecycle} in one thread: poll a batch, decode it, store every
 * valid event in one database transaction (event id = primary key, duplicates have no effect), send the invalid
 * ones to {@code domus.usage.dlq} with the reason, and only then commit the offsets. A crash anywhere before the
 * commit re-delivers the batch, which the unique key turns into no-ops: at-least-once delivery, exactly-once effect.
 */
@ApplicationScoped
public class UsageConsumer {
    private static final Logger LOG = Logger.getLogger(UsageConsumer.class);
    /** A usage report never spans more than this; longer ones are refused (likely a clock or unit bug). */
    private static final Duration MAX_PERIOD = Duration.ofDays(31);

    /** Counters since start, for health, logs, tests and the benchmark. */
    public record Stats(long records, long usageInserted, long lifecycleInserted, long duplicates, long deadLettered,
            long batches, long failedBatches, Timing timing) {
    }

    /** Where the consumer thread's wall time went, in nanoseconds (poll = waiting for Kafka). */
    public record Timing(long pollNanos, long decodeNanos, long storeNanos, long commitNanos) {
    }

    @Inject
    BillingConfig config;

    @Inject
    IngestService ingest;

    @Inject
    DeadLetters deadLetters;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final AtomicLong records = new AtomicLong();
    private final AtomicLong usageInserted = new AtomicLong();
    private final AtomicLong lifecycleInserted = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong failedBatches = new AtomicLong();
    private final AtomicLong pollNanos = new AtomicLong();
    private final AtomicLong decodeNanos = new AtomicLong();
    private final AtomicLong storeNanos = new AtomicLong();
    private final AtomicLong commitNanos = new AtomicLong();

    private Thread thread;
    private volatile boolean running;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile CompletableFuture<Void> crashRequest;

    void onStart(@Observes StartupEvent e) {
        if (config.consumer().enabled()) {
            start();
        }
    }

    void onStop(@Observes ShutdownEvent e) {
        stop();
    }

    /** Starts the consumer thread (no-op if running). */
    public synchronized void start() {
        if (thread != null && thread.isAlive()) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name("billing-usage-consumer").daemon().start(this::run);
    }

    /** Stops the thread after its current batch (offsets of a finished batch are committed). */
    public synchronized void stop() {
        running = false;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (thread != null) {
            try {
                thread.join(Duration.ofSeconds(30));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            thread = null;
        }
    }

    public synchronized boolean isRunning() {
        return thread != null && thread.isAlive();
    }

    /**
     * Fault injection for tests: after the next batch's database commit, the thread closes its consumer without
     * committing offsets and dies, like a process killed in the worst window. The future completes when it is dead.
     */
    public CompletableFuture<Void> crashAfterNextTransaction() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        crashRequest = f;
        return f;
    }

    public Stats stats() {
        return new Stats(records.get(), usageInserted.get(), lifecycleInserted.get(), duplicates.get(),
                deadLettered.get(), batches.get(), failedBatches.get(), new Timing(pollNanos.get(),
                        decodeNanos.get(), storeNanos.get(), commitNanos.get()));
    }

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.consumer().groupId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(config.consumer().maxPollRecords()));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // A consumer that died without leaving the group is noticed after 10 s rather than the default 45 s.
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "2000");
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(32 * 1024 * 1024));
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(8 * 1024 * 1024));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    private void run() {
        KafkaConsumer<byte[], byte[]> c = newConsumer();
        consumer = c;
        boolean crashed = false;
        try {
            c.subscribe(List.of(Topics.USAGE, Topics.VPS_LIFECYCLE));
            LOG.infof("event=consumer.started group=%s topics=%s,%s", config.consumer().groupId(), Topics.USAGE,
                    Topics.VPS_LIFECYCLE);
            while (running) {
                long t0 = System.nanoTime();
                ConsumerRecords<byte[], byte[]> batch = c.poll(Duration.ofMillis(500));
                if (batch.isEmpty()) {
                    continue;
                }
                pollNanos.addAndGet(System.nanoTime() - t0);
                if (!handle(c, batch)) {
                    crashed = true;
                    return;
                }
            }
        } catch (WakeupException e) {
            // stop() woke the poll: exit the loop.
        } catch (RuntimeException e) {
            LOG.errorf(e, "event=consumer.died error=\"%s\"", e.getMessage());
        } finally {
            consumer = null;
            if (crashed) {
                // Abrupt: no commit, no leave-group wait beyond zero.
                c.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ZERO));
                CompletableFuture<Void> f = crashRequest;
                crashRequest = null;
                if (f != null) {
                    f.complete(null);
                }
                LOG.warnf("event=consumer.crashed reason=fault_injection");
            } else {
                c.close();
                LOG.infof("event=consumer.stopped");
            }
        }
    }

    /** Processes one batch; returns false when a crash was injected after the database commit. */
    private boolean handle(KafkaConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> batch) {
        long t0 = System.nanoTime();
        List<UsageEvent> usage = new ArrayList<>(batch.count());
        List<VpsLifecycleEvent> lifecycle = new ArrayList<>();
        List<DeadLetters.Dead> dead = new ArrayList<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            first.putIfAbsent(tp, r.offset());
            next.put(tp, new OffsetAndMetadata(r.offset() + 1));
            try {
                if (r.value() == null) {
                    throw new InvalidEventException("empty record value");
                }
                if (Topics.VPS_LIFECYCLE.equals(r.topic())) {
                    lifecycle.add(EventCodec.read(r.value(), VpsLifecycleEvent.class));
                } else {
                    usage.add(checked(EventCodec.read(r.value(), UsageEvent.class)));
                }
            } catch (InvalidEventException e) {
                dead.add(new DeadLetters.Dead(r, e.getMessage()));
            }
        }
        long t1 = System.nanoTime();
        IngestService.Stored stored;
        try {
            stored = ingest.store(usage, lifecycle);
        } catch (RuntimeException e) {
            failedBatches.incrementAndGet();
            LOG.errorf("event=batch.failed records=%d error=\"%s\" action=retry", batch.count(), e.getMessage());
            rewind(c, first);
            return true;
        }
        long t2 = System.nanoTime();
        CompletableFuture<Void> crash = crashRequest;
        if (crash != null) {
            return false;
        }
        if (!dead.isEmpty()) {
            try {
                deadLetters.send(dead);
            } catch (RuntimeException e) {
                failedBatches.incrementAndGet();
                LOG.errorf("event=dlq.failed records=%d error=\"%s\" action=retry", dead.size(), e.getMessage());
                rewind(c, first);
                return true;
            }
        }
        try {
            c.commitSync(next);
        } catch (CommitFailedException e) {
            // A rebalance took the partitions: the new owner re-reads the batch and the unique keys absorb it.
            LOG.warnf("event=commit.failed error=\"%s\"", e.getMessage());
        }
        long t3 = System.nanoTime();
        decodeNanos.addAndGet(t1 - t0);
        storeNanos.addAndGet(t2 - t1);
        commitNanos.addAndGet(t3 - t2);
        records.addAndGet(batch.count());
        usageInserted.addAndGet(stored.usageInserted());
        lifecycleInserted.addAndGet(stored.lifecycleInserted());
        duplicates.addAndGet(stored.usageDuplicates() + stored.lifecycleDuplicates());
        deadLettered.addAndGet(dead.size());
        batches.incrementAndGet();
        LOG.debugf("event=batch.stored records=%d usage_inserted=%d duplicates=%d dead=%d", batch.count(),
                stored.usageInserted(), stored.usageDuplicates() + stored.lifecycleDuplicates(), dead.size());
        return true;
    }

    private void rewind(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> first) {
        for (Map.Entry<TopicPartition, Long> e : first.entrySet()) {
            c.seek(e.getKey(), e.getValue());
        }
        try {
            Thread.sleep(config.consumer().retryBackoff());
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Rules the schema cannot state. */
    private static UsageEvent checked(UsageEvent e) {
        if (e.metric() == UsageMetric.VPS_MINUTES && e.plan().isEmpty()) {
            throw new InvalidEventException("vps_minutes needs plan");
        }
        if (Duration.between(e.periodStart(), e.periodEnd()).compareTo(MAX_PERIOD) > 0) {
            throw new InvalidEventException("period longer than " + MAX_PERIOD.toDays() + " days");
        }
        return e;
    }
}
