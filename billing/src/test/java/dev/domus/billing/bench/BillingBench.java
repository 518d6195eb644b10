// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.Topics;
import dev.domus.api.events.UsageEvent;
import dev.domus.api.events.UsageMetric;
import dev.domus.billing.TestStreams;
import dev.domus.billing.infra.UsageConsumer;
import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.service.BillingConfig;
import dev.domus.billing.service.BillingService;
import dev.domus.billing.service.IngestService;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (run only with {@code -Dtest=BillingBench}, see {@code billing/bench/README.md}): rates
 * {@code -Dbench.events=N} synthetic usage events end to end through Kafka and PostgreSQL, prints events/s for
 * producing, consuming (ingest) and rating, and checks every total against sums computed here from the generated
 * events with their own arithmetic (not the rating engine). 10 % of the events are sent twice.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "billing"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = TestStreams.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class BillingBench {
    static final BillingPeriod OCT = new BillingPeriod(YearMonth.of(2026, 10));
    /** Per organization: 2 VPSs (s-1) x 500 hours of vps_minutes + 500 transfer reports = 1500 events. */
    static final int HOURS = 500;
    static final int EVENTS_PER_ORG = 3 * HOURS;
    static final BigDecimal S1_HOURLY = new BigDecimal("0.0060");
    static final BigDecimal S1_MONTHLY = new BigDecimal("4.00");
    static final long S1_POOL_BYTES = 1000L * 1_000_000_000L;
    static final BigDecimal TRANSFER_PER_GB = new BigDecimal("0.01");

    @Inject
    UsageConsumer consumer;

    @Inject
    BillingService billing;

    @Inject
    AgroalDataSource ds;

    @Inject
    BillingConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void bench() throws Exception {
        int requested = Integer.getInteger("bench.events", 1_000_000);
        int orgs = Math.max(1, requested / EVENTS_PER_ORG);
        long distinct = (long) orgs * EVENTS_PER_ORG;
        consumer.stop();
        String loadBeforeProduce = loadAverage();

        // Produce: every event once, 10 % of them a second time (a replay the unique key must absorb).
        Random rnd = new Random(42);
        List<UUID> orgIds = new ArrayList<>(orgs);
        long expectedMinor = 0;
        long expectedBytes = 0;
        long sent = 0;
        long t0 = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> p = TestStreams.producer(bootstrap)) {
            for (int o = 0; o < orgs; o++) {
                UUID org = new UUID(0x0b0b_0000_0000_4000L | o, 0x8000_0000_0000_0000L | o);
                orgIds.add(org);
                byte[] key = org.toString().getBytes(StandardCharsets.UTF_8);
                UUID project = UUID.randomUUID();
                UUID[] vps = {UUID.randomUUID(), UUID.randomUUID()};
                long orgBytes = 0;
                for (int h = 0; h < HOURS; h++) {
                    Instant from = OCT.start().plusSeconds(3600L * h);
                    Instant to = from.plusSeconds(3600);
                    long bytes = 4_000_000_000L + rnd.nextInt(2_000_000_000);
                    UsageEvent[] events = {
                        event(org, project, vps[0], UsageMetric.VPS_MINUTES, 60, "s-1", from, to),
                        event(org, project, vps[1], UsageMetric.VPS_MINUTES, 60, "s-1", from, to),
                        event(org, project, vps[0], UsageMetric.TRANSFER_BYTES, bytes, null, from, to)};
                    orgBytes += bytes;
                    for (UsageEvent e : events) {
                        byte[] v = EventCodec.write(e);
                        p.send(new ProducerRecord<>(Topics.USAGE, key, v));
                        sent++;
                        if (rnd.nextInt(10) == 0) {
                            p.send(new ProducerRecord<>(Topics.USAGE, key, v));
                            sent++;
                        }
                    }
                }
                expectedBytes += orgBytes;
                expectedMinor += expectedOrgMinor(orgBytes);
            }
            p.flush();
        }
        double produceSec = (System.nanoTime() - t0) / 1e9;

        System.out.printf("BENCH billing: organizations=%d distinct_events=%d sent_records=%d (duplicates=%d)%n"
                + "BENCH produce: %.1f s, %.0f records/s, load average before %s%n", orgs, distinct, sent,
                sent - distinct, produceSec, sent / produceSec, loadBeforeProduce);

        // Consume, once per mode (A/B on the same records, broker and database): from a standing start with a
        // fresh consumer group and empty tables until every distinct event is stored and the offsets committed.
        String[] modes = System.getProperty("bench.modes", "new,baseline").split(",");
        for (String mode : modes) {
            UsageConsumer.Settings settings = switch (mode.strip()) {
                case "new" -> new UsageConsumer.Settings("bench-new", config.consumer().storeMethod(),
                        config.consumer().pipeline(), config.consumer().maxPollRecords());
                // The consumer as it was before issue 9's throughput work: unnest arrays, one batch at a time.
                case "baseline" -> new UsageConsumer.Settings("bench-baseline", IngestService.StoreMethod.UNNEST,
                        false, 5000);
                default -> throw new IllegalArgumentException("bench.modes: new or baseline, got " + mode);
            };
            consume(settings, distinct, sent, expectedBytes);
        }

        // Rate: every organization's October invoice from the stored usage (of the last mode).
        long t2 = System.nanoTime();
        long ratedMinor = 0;
        for (UUID org : orgIds) {
            ratedMinor += billing.invoice(org, OCT).rated().totalMinor();
        }
        double rateSec = (System.nanoTime() - t2) / 1e9;
        System.out.printf("""
                BENCH rate invoices: %.1f s, %.0f events/s, %.1f invoices/s
                BENCH verify: total_minor=%d expected=%d
                """, rateSec, distinct / rateSec, orgs / rateSec, ratedMinor, expectedMinor);
        assertThat(ratedMinor).isEqualTo(expectedMinor);
    }

    void consume(UsageConsumer.Settings settings, long distinct, long sent, long expectedBytes) throws Exception {
        consumer.stop();
        try (Connection c = ds.getConnection()) {
            c.createStatement().execute("TRUNCATE usage_event, vps_lifecycle");
        }
        UsageConsumer.Stats before = consumer.stats();
        double cpuBefore = Math.max(0, consumerCpuSec());
        double[] machineBefore = stackCpu();
        String loadBefore = loadAverage();
        long t1 = System.nanoTime();
        consumer.start(settings);
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        // The consumer's own counter, not count(*), so that waiting does not load the database.
        while (consumer.stats().usageInserted() - before.usageInserted() < distinct) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("stored " + stored() + " of " + distinct);
            }
            Thread.sleep(100);
        }
        TestStreams.awaitCaughtUp(bootstrap, settings.groupId(), Duration.ofMinutes(10));
        double consumeSec = (System.nanoTime() - t1) / 1e9;
        String loadAfter = loadAverage();
        double cpu = consumerCpuSec() - cpuBefore;
        double[] machineAfter = stackCpu();
        double pgCpu = machineAfter[0] - machineBefore[0];
        double kafkaCpu = machineAfter[1] - machineBefore[1];
        double jvmCpu = machineAfter[2] - machineBefore[2];
        UsageConsumer.Stats st = consumer.stats();
        consumer.stop();

        long storedBytes;
        long storedRows;
        try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery("""
                SELECT count(*), coalesce(sum(quantity) FILTER (WHERE metric = 'transfer_bytes'), 0)
                FROM usage_event WHERE period_start >= '2026-10-01' AND period_start < '2026-11-01'""")) {
            rs.next();
            storedRows = rs.getLong(1);
            storedBytes = rs.getLong(2);
        }
        long duplicates = st.duplicates() - before.duplicates();
        UsageConsumer.Timing t = st.timing();
        UsageConsumer.Timing t0 = before.timing();
        System.out.printf("""
                BENCH consume+store [%s] (exactly once, end to end from Kafka): %.1f s, %.0f records/s, %.0f distinct events/s, batches=%d, load average before %s after %s
                BENCH consumer [%s]: store_method=%s pipeline=%s max_poll_records=%d; consumer thread cpu=%.1f s, wall poll=%.1f s decode=%.1f s wait-for-store=%.1f s dlq+commit=%.1f s; store thread db tx=%.1f s
                BENCH cpu [%s]: postgresql=%.1f s kafka_broker=%.1f s billing_jvm=%.1f s total=%.1f s = %.0f distinct events per cpu-second (load-independent cost)
                BENCH verify [%s]: stored_rows=%d expected=%d transfer_bytes=%d expected=%d duplicates_absorbed=%d expected=%d
                """, settings.groupId(), consumeSec, sent / consumeSec, distinct / consumeSec,
                st.batches() - before.batches(), loadBefore, loadAfter, settings.groupId(), settings.storeMethod(),
                settings.pipeline(), settings.maxPollRecords(), cpu, (t.pollNanos() - t0.pollNanos()) / 1e9,
                (t.decodeNanos() - t0.decodeNanos()) / 1e9, (t.waitNanos() - t0.waitNanos()) / 1e9,
                (t.commitNanos() - t0.commitNanos()) / 1e9, (t.storeNanos() - t0.storeNanos()) / 1e9,
                settings.groupId(), pgCpu, kafkaCpu, jvmCpu, pgCpu + kafkaCpu + jvmCpu,
                distinct / (pgCpu + kafkaCpu + jvmCpu), settings.groupId(), storedRows, distinct, storedBytes, expectedBytes, duplicates, sent - distinct);
        assertThat(storedRows).isEqualTo(distinct);
        assertThat(storedBytes).isEqualTo(expectedBytes);
        assertThat(duplicates).isEqualTo(sent - distinct);
    }

    /** The bench's own arithmetic: 2 VPSs x 500 started hours of s-1 (capped), transfer over 2 x 1000 GB. */
    static long expectedOrgMinor(long bytes) {
        BigDecimal vps = S1_HOURLY.multiply(BigDecimal.valueOf(HOURS)).min(S1_MONTHLY);
        long vpsMinor = vps.movePointRight(2).setScale(0, RoundingMode.HALF_UP).longValueExact();
        long overBytes = Math.max(0, bytes - 2 * S1_POOL_BYTES);
        long transferMinor = new BigDecimal(overBytes).movePointLeft(9).multiply(TRANSFER_PER_GB).movePointRight(2)
                .setScale(0, RoundingMode.HALF_UP).longValueExact();
        return 2 * vpsMinor + transferMinor;
    }

    static UsageEvent event(UUID org, UUID project, UUID resource, UsageMetric m, long q, String plan, Instant from,
            Instant to) {
        return new UsageEvent(1, UsageEvent.idFor(resource, m, from, to), org, project, resource, m, q,
                Optional.ofNullable(plan), Optional.of("running"), from, to);
    }

    /**
     * CPU seconds used so far by PostgreSQL (postmaster and its backends), the Kafka broker and this JVM: summed
     * over a run they give its cost independent of how long it waited for a core on the shared machine.
     */
    static double[] stackCpu() {
        long pg = dev.domus.stack.quarkus.PostgresTestResource.service().pid().orElse(-1);
        long kafka = dev.domus.stack.quarkus.KafkaTestResource.service().pid();
        // Descendants too: the server may run under a wrapper (unshare as root), its backends are its children.
        java.util.Map<Long, java.util.List<Long>> children = new java.util.HashMap<>();
        try (var dirs = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
            for (java.nio.file.Path d : (Iterable<java.nio.file.Path>) dirs::iterator) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String[] f = procStat(Long.parseLong(name));
                if (f.length > 1) {
                    children.computeIfAbsent(Long.parseLong(f[1]), k -> new ArrayList<>()).add(Long.parseLong(name));
                }
            }
        } catch (java.io.IOException e) {
            return new double[] {-1, -1, -1};
        }
        double pgCpu = 0;
        java.util.ArrayDeque<Long> todo = new java.util.ArrayDeque<>(List.of(pg));
        while (!todo.isEmpty()) {
            long p = todo.pop();
            pgCpu += procCpu(p);
            todo.addAll(children.getOrDefault(p, List.of()));
        }
        double jvm = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
        return new double[] {pgCpu, procCpu(kafka), jvm};
    }

    /** The fields of /proc/pid/stat after the command name (index 0 = state, 1 = ppid, 11 = utime, 12 = stime). */
    static String[] procStat(long pid) {
        try {
            String s = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
            return s.substring(s.lastIndexOf(')') + 2).split(" ");
        } catch (java.io.IOException | RuntimeException e) {
            return new String[0];
        }
    }

    static double procCpu(long pid) {
        String[] f = procStat(pid);
        // USER_HZ is 100 on Linux x86-64.
        return f.length > 12 ? (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0 : 0;
    }

    /** The machine's load average (shared box: the figures are only comparable at similar load). */
    static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return f[0] + "/" + f[1] + "/" + f[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** CPU time of the consumer thread (this JVM), to separate the cost of ingest from the machine's load. */
    static double consumerCpuSec() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("billing-usage-consumer")) {
                return mx.getThreadCpuTime(t.threadId()) / 1e9;
            }
        }
        return -1;
    }

    long stored() throws Exception {
        try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT count(*) FROM usage_event")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
