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
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
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
 * Consumes {@code domus.usage} and {@code domus.vps-lifecycle}: poll a batch, decode it, store every valid event in
 * one database transaction (event id = primary key, duplicates have no effect), send the invalid ones to
 * {@code domus.usage.dlq} with the reason, and only then commit the offsets. A crash anywhere before the commit
 * re-delivers the batch, which the unique key turns into no-ops: at-least-once delivery, exactly-once effect. The
 * transaction runs on a store thread so that the consumer thread polls and decodes the next batch meanwhile (one
 * batch in flight); offsets of a batch are committed by the consumer thread after that batch's transaction.
 */
@ApplicationScoped
public class UsageConsumer {
    private static final Logger LOG = Logger.getLogger(UsageConsumer.class);
    /** A usage report never spans more than this; longer ones are refused (likely a clock or unit bug). */
    private static final Duration MAX_PERIOD = Duration.ofDays(31);
    private static final Duration IDLE_POLL = Duration.ofMillis(500);
    private static final Duration BUSY_POLL = Duration.ofMillis(100);

    /** How the consumer thread runs; {@link #start()} takes them from {@link BillingConfig}. */
    public record Settings(String groupId, IngestService.StoreMethod storeMethod, boolean pipeline,
                           int maxPollRecords) {
        public Settings {
            if (groupId == null || groupId.isBlank()) {
                throw new IllegalArgumentException("groupId must not be blank");
            }
            if (maxPollRecords < 1 || maxPollRecords > 1_000_000) {
                throw new IllegalArgumentException("maxPollRecords must be 1..1000000, got " + maxPollRecords);
            }
        }
    }

    /** Counters since start, for health, logs, tests and the benchmark. */
    public record Stats(long records, long usageInserted, long lifecycleInserted, long duplicates, long deadLettered,
            long batches, long failedBatches, Timing timing) {
    }

    /**
     * Where the time went, in nanoseconds: the consumer thread's poll (waiting for Kafka), decode, wait (for the
     * store thread) and commit (DLQ + offsets); the store thread's database transactions ({@code store}), which
     * overlap the consumer thread's poll and decode when pipelining.
     */
    public record Timing(long pollNanos, long decodeNanos, long storeNanos, long waitNanos, long commitNanos) {
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
    private final AtomicLong waitNanos = new AtomicLong();
    /** The batch whose transaction is running (consumer thread only). */
    private InFlight pending;

    private Thread thread;
    private volatile boolean running;
    private volatile Settings settings;
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

    /** Starts the consumer thread with the configured settings (no-op if running). */
    public synchronized void start() {
        BillingConfig.Consumer c = config.consumer();
        start(new Settings(c.groupId(), c.storeMethod(), c.pipeline(), c.maxPollRecords()));
    }

    /** Starts the consumer thread with explicit settings, e.g. a benchmark's A/B runs (no-op if running). */
    public synchronized void start(Settings s) {
        if (thread != null && thread.isAlive()) {
            return;
        }
        settings = s;
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
                        decodeNanos.get(), storeNanos.get(), waitNanos.get(), commitNanos.get()));
    }

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(settings.maxPollRecords()));
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

    /** One polled batch, decoded: what to store, what to dead-letter, where it started and where it ends. */
    private record Decoded(List<UsageEvent> usage, List<VpsLifecycleEvent> lifecycle, List<DeadLetters.Dead> dead,
                           Map<TopicPartition, Long> first, Map<TopicPartition, OffsetAndMetadata> next, int count) {
    }

    /** A batch whose database transaction runs on the store thread. */
    private record InFlight(Decoded batch, Future<IngestService.Stored> stored) {
    }

    /** How finishing a batch ended. */
    private enum Outcome { COMMITTED, RETRY, CRASH }

    private void run() {
        KafkaConsumer<byte[], byte[]> c = newConsumer();
        consumer = c;
        ExecutorService store = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform()
                .name("billing-usage-store").daemon().unstarted(r));
        boolean crashed = false;
        try {
            c.subscribe(List.of(Topics.USAGE, Topics.VPS_LIFECYCLE), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    // Called inside poll(): commit the batch in flight while its partitions are still ours.
                    if (pending != null) {
                        InFlight p = pending;
                        pending = null;
                        finish(c, p, Map.of());
                    }
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                }
            });
            LOG.infof("event=consumer.started group=%s topics=%s,%s pipeline=%s store_method=%s max_poll_records=%d",
                    settings.groupId(), Topics.USAGE, Topics.VPS_LIFECYCLE, settings.pipeline(),
                    settings.storeMethod(), settings.maxPollRecords());
            while (running) {
                long t0 = System.nanoTime();
                // With a batch in flight, a short poll: if nothing is ready, finishing that batch comes first.
                ConsumerRecords<byte[], byte[]> batch = c.poll(pending == null ? IDLE_POLL : BUSY_POLL);
                long t1 = System.nanoTime();
                Decoded next = null;
                if (!batch.isEmpty()) {
                    pollNanos.addAndGet(t1 - t0);
                    next = decode(batch);
                    decodeNanos.addAndGet(System.nanoTime() - t1);
                }
                if (pending != null) {
                    InFlight p = pending;
                    pending = null;
                    Outcome o = finish(c, p, next == null ? Map.of() : next.first());
                    if (o == Outcome.CRASH) {
                        crashed = true;
                        return;
                    }
                    if (o == Outcome.RETRY) {
                        // The next batch was polled past the failed one: both are read again after the rewind.
                        continue;
                    }
                }
                if (next != null) {
                    Decoded d = next;
                    pending = new InFlight(d, store.submit(() -> timedStore(d)));
                    if (!settings.pipeline()) {
                        InFlight p = pending;
                        pending = null;
                        Outcome o = finish(c, p, Map.of());
                        if (o == Outcome.CRASH) {
                            crashed = true;
                            return;
                        }
                    }
                }
            }
            if (pending != null) {
                InFlight p = pending;
                pending = null;
                if (finish(c, p, Map.of()) == Outcome.CRASH) {
                    crashed = true;
                }
            }
        } catch (WakeupException e) {
            // stop() woke the poll: finish the batch in flight (its transaction may already be committed).
            if (pending != null) {
                InFlight p = pending;
                pending = null;
                crashed = finish(c, p, Map.of()) == Outcome.CRASH;
            }
        } catch (RuntimeException e) {
            LOG.errorf(e, "event=consumer.died error=\"%s\"", e.getMessage());
        } finally {
            pending = null;
            consumer = null;
            store.shutdownNow();
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

    private IngestService.Stored timedStore(Decoded d) {
        long t0 = System.nanoTime();
        try {
            return ingest.store(d.usage(), d.lifecycle(), settings.storeMethod());
        } finally {
            storeNanos.addAndGet(System.nanoTime() - t0);
        }
    }

    /** Splits a polled batch into valid events and dead letters; per partition, not per record, for the offsets. */
    private Decoded decode(ConsumerRecords<byte[], byte[]> batch) {
        List<UsageEvent> usage = new ArrayList<>(batch.count());
        List<VpsLifecycleEvent> lifecycle = new ArrayList<>();
        List<DeadLetters.Dead> dead = new ArrayList<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (TopicPartition tp : batch.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> records = batch.records(tp);
            first.put(tp, records.get(0).offset());
            next.put(tp, new OffsetAndMetadata(records.get(records.size() - 1).offset() + 1));
            boolean isLifecycle = Topics.VPS_LIFECYCLE.equals(tp.topic());
            for (int i = 0, n = records.size(); i < n; i++) {
                ConsumerRecord<byte[], byte[]> r = records.get(i);
                try {
                    if (r.value() == null) {
                        throw new InvalidEventException("empty record value");
                    }
                    if (isLifecycle) {
                        lifecycle.add(EventCodec.read(r.value(), VpsLifecycleEvent.class));
                    } else {
                        usage.add(checked(UsageDecoder.decode(r.value())));
                    }
                } catch (InvalidEventException e) {
                    dead.add(new DeadLetters.Dead(r, e.getMessage()));
                }
            }
        }
        return new Decoded(usage, lifecycle, dead, first, next, batch.count());
    }

    /**
     * Waits for a batch's transaction, then dead-letters its refused records and commits its offsets. On a failure
     * it rewinds to the batch's first offsets (and to {@code alsoRewind}, a batch polled after it) for a retry.
     */
    private Outcome finish(KafkaConsumer<byte[], byte[]> c, InFlight p, Map<TopicPartition, Long> alsoRewind) {
        long t0 = System.nanoTime();
        IngestService.Stored stored;
        try {
            stored = p.stored().get();
        } catch (ExecutionException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                running = false;
            }
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            failedBatches.incrementAndGet();
            LOG.errorf("event=batch.failed records=%d error=\"%s\" action=retry", p.batch().count(),
                    cause.getMessage());
            rewind(c, p.batch().first(), alsoRewind);
            return Outcome.RETRY;
        } finally {
            waitNanos.addAndGet(System.nanoTime() - t0);
        }
        long t1 = System.nanoTime();
        if (crashRequest != null) {
            return Outcome.CRASH;
        }
        Decoded d = p.batch();
        if (!d.dead().isEmpty()) {
            try {
                deadLetters.send(d.dead());
            } catch (RuntimeException e) {
                failedBatches.incrementAndGet();
                LOG.errorf("event=dlq.failed records=%d error=\"%s\" action=retry", d.dead().size(), e.getMessage());
                rewind(c, d.first(), alsoRewind);
                return Outcome.RETRY;
            }
        }
        try {
            c.commitSync(d.next());
        } catch (CommitFailedException e) {
            // A rebalance took the partitions: the new owner re-reads the batch and the unique keys absorb it.
            LOG.warnf("event=commit.failed error=\"%s\"", e.getMessage());
        }
        commitNanos.addAndGet(System.nanoTime() - t1);
        records.addAndGet(d.count());
        usageInserted.addAndGet(stored.usageInserted());
        lifecycleInserted.addAndGet(stored.lifecycleInserted());
        duplicates.addAndGet(stored.usageDuplicates() + stored.lifecycleDuplicates());
        deadLettered.addAndGet(d.dead().size());
        batches.incrementAndGet();
        LOG.debugf("event=batch.stored records=%d usage_inserted=%d duplicates=%d dead=%d", d.count(),
                stored.usageInserted(), stored.usageDuplicates() + stored.lifecycleDuplicates(), d.dead().size());
        return Outcome.COMMITTED;
    }

    private void rewind(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> first,
            Map<TopicPartition, Long> alsoRewind) {
        for (Map.Entry<TopicPartition, Long> e : alsoRewind.entrySet()) {
            if (!first.containsKey(e.getKey())) {
                c.seek(e.getKey(), e.getValue());
            }
        }
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
