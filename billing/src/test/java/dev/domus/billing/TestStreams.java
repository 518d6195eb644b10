// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.UsageEvent;
import dev.domus.api.events.UsageMetric;
import dev.domus.api.events.VpsLifecycleEvent;
import dev.domus.api.events.VpsLifecycleType;
import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.rating.RatingInput;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Currency;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Synthetic usage streams for one organization, and the Kafka plumbing the tests use to send and wait. */
public final class TestStreams {
    /** Topics every billing {@code @QuarkusTest} creates (the same GLOBAL resource set = one boot for all). */
    public static final String TOPICS = "domus.usage:3,domus.vps-lifecycle:1,domus.usage.dlq:1,domus.billing-alerts:1";

    private TestStreams() {
    }

    /** A stream and the rating input it must produce (built from the events, not from the database). */
    public record Stream(UUID org, List<UsageEvent> usage, List<VpsLifecycleEvent> lifecycle) {
        public RatingInput expectedInput(Currency cur, BillingPeriod period, Instant asOf) {
            List<RatingInput.VpsTime> vps = new ArrayList<>();
            List<RatingInput.Quantity> q = new ArrayList<>();
            for (UsageEvent u : usage) {
                if (u.metric() == UsageMetric.VPS_MINUTES) {
                    vps.add(new RatingInput.VpsTime(u.resourceId(), u.projectId(), u.plan().orElseThrow(),
                            u.periodStart(), u.periodEnd()));
                } else if (!u.periodStart().isBefore(period.start()) && u.periodStart().isBefore(period.end())) {
                    q.add(new RatingInput.Quantity(u.resourceId(), u.projectId(),
                            RatingInput.QuantityMetric.valueOf(u.metric().name()), u.quantity()));
                }
            }
            List<RatingInput.Lifecycle> life = new ArrayList<>();
            for (VpsLifecycleEvent l : lifecycle) {
                life.add(new RatingInput.Lifecycle(l.vpsId(), l.projectId(),
                        RatingInput.LifecycleKind.valueOf(l.type().name()), l.plan(), l.occurredAt()));
            }
            return new RatingInput(org, cur, period, asOf, vps, life, q, List.of());
        }

        public int size() {
            return usage.size() + lifecycle.size();
        }
    }

    /**
     * Two VPSs over two days of November 2026, one resized mid-hour and one deleted, reporting every 10 minutes,
     * plus transfer and snapshot usage: a few hundred events.
     */
    public static Stream november(UUID org) {
        UUID project = UUID.randomUUID();
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        UUID snap = UUID.randomUUID();
        Instant start = Instant.parse("2026-11-10T08:05:00Z");
        Instant resize = Instant.parse("2026-11-11T13:35:00Z");
        Instant delete = Instant.parse("2026-11-11T20:15:00Z");
        List<UsageEvent> usage = new ArrayList<>();
        List<VpsLifecycleEvent> life = new ArrayList<>();
        life.add(VpsLifecycleEvent.of(VpsLifecycleType.CREATED, org, project, a, "s-1", start));
        life.add(VpsLifecycleEvent.of(VpsLifecycleType.CREATED, org, project, b, "s-2", start));
        life.add(VpsLifecycleEvent.of(VpsLifecycleType.RESIZED, org, project, a, "s-4", resize));
        life.add(VpsLifecycleEvent.of(VpsLifecycleType.DELETED, org, project, b, "s-2", delete));
        for (Instant t = start; t.isBefore(Instant.parse("2026-11-12T08:00:00Z")); t = t.plusSeconds(600)) {
            Instant e = t.plusSeconds(600);
            usage.add(usage(org, project, a, UsageMetric.VPS_MINUTES, 10, t.isBefore(resize) ? "s-1" : "s-4",
                    t, e));
            if (t.isBefore(delete)) {
                usage.add(usage(org, project, b, UsageMetric.VPS_MINUTES, 10, "s-2", t, e));
            }
            usage.add(usage(org, project, a, UsageMetric.TRANSFER_BYTES, 3_000_000_000L, null, t, e));
            usage.add(usage(org, project, snap, UsageMetric.SNAPSHOT_GB_HOURS, 7, null, t, e));
        }
        return new Stream(org, usage, life);
    }

    public static UsageEvent usage(UUID org, UUID project, UUID resource, UsageMetric metric, long quantity,
            String plan, Instant from, Instant to) {
        return new UsageEvent(1, UsageEvent.idFor(resource, metric, from, to), org, project, resource, metric,
                quantity, Optional.ofNullable(plan), Optional.of("running"), from, to);
    }

    public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** Sends the stream keyed by organization, lifecycle first, and waits for every ack. */
    public static void send(KafkaProducer<byte[], byte[]> p, Stream s) throws Exception {
        byte[] key = s.org().toString().getBytes(StandardCharsets.UTF_8);
        List<Future<?>> acks = new ArrayList<>();
        for (VpsLifecycleEvent l : s.lifecycle()) {
            acks.add(p.send(new ProducerRecord<>(dev.domus.api.events.Topics.VPS_LIFECYCLE, key, EventCodec.write(l))));
        }
        for (UsageEvent u : s.usage()) {
            acks.add(p.send(new ProducerRecord<>(dev.domus.api.events.Topics.USAGE, key, EventCodec.write(u))));
        }
        for (Future<?> f : acks) {
            f.get(60, TimeUnit.SECONDS);
        }
    }

    /** Waits until the billing group's committed offsets reach the end of both input topics. */
    public static void awaitCaughtUp(String bootstrap, String group, Duration timeout) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(p)) {
            while (true) {
                boolean caughtUp = true;
                java.util.Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                java.util.Map<TopicPartition, OffsetSpec> ask = new java.util.HashMap<>();
                for (String topic : List.of(dev.domus.api.events.Topics.USAGE,
                        dev.domus.api.events.Topics.VPS_LIFECYCLE)) {
                    for (var info : admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                            .get(topic).partitions()) {
                        ask.put(new TopicPartition(topic, info.partition()), OffsetSpec.latest());
                    }
                }
                var ends = admin.listOffsets(ask).all().get(30, TimeUnit.SECONDS);
                for (var e : ends.entrySet()) {
                    OffsetAndMetadata c = committed.get(e.getKey());
                    if (e.getValue().offset() > 0 && (c == null || c.offset() < e.getValue().offset())) {
                        caughtUp = false;
                    }
                }
                if (caughtUp) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("consumer group " + group + " did not catch up: committed=" + committed
                            + " ends=" + ends);
                }
                Thread.sleep(100);
            }
        }
    }
}
