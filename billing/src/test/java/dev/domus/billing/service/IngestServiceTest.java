// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.UsageEvent;
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
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both ways of writing a usage batch (binary COPY + insert, and unnest) store exactly the fields of the events
 * (microsecond timestamps, NULL plan and state, non-ASCII text), insert each event id once and count the rest,
 * in-batch duplicates included, as duplicates.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "billing"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = TestStreams.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class IngestServiceTest {
    @Inject
    IngestService ingest;

    @Inject
    AgroalDataSource ds;

    @ParameterizedTest
    @EnumSource(IngestService.StoreMethod.class)
    void storesEveryFieldOnceWhicheverMethod(IngestService.StoreMethod method) throws Exception {
        UUID org = UUID.randomUUID();
        UUID project = UUID.randomUUID();
        List<UsageEvent> events = new ArrayList<>();
        Instant t = Instant.parse("2026-11-03T10:15:30.123456Z");
        for (int i = 0; i < 1200; i++) {
            UUID resource = UUID.randomUUID();
            Instant from = t.plusSeconds(i);
            Instant to = from.plusSeconds(600).plusNanos(1000);
            events.add(switch (i % 3) {
                case 0 -> new UsageEvent(1, UsageEvent.idFor(resource, UsageMetric.VPS_MINUTES, from, to), org,
                        project, resource, UsageMetric.VPS_MINUTES, 10, Optional.of("s-1"), Optional.of("stopped"),
                        from, to);
                case 1 -> new UsageEvent(1, UsageEvent.idFor(resource, UsageMetric.TRANSFER_BYTES, from, to), org,
                        project, resource, UsageMetric.TRANSFER_BYTES, Long.MAX_VALUE - i, Optional.empty(),
                        Optional.empty(), from, to);
                default -> new UsageEvent(1, UsageEvent.idFor(resource, UsageMetric.VPS_MINUTES, from, to), org,
                        project, resource, UsageMetric.VPS_MINUTES, 0, Optional.of("größe-ü"),
                        Optional.of("running"), from, to);
            });
        }
        List<UsageEvent> batch = new ArrayList<>(events);
        batch.addAll(events.subList(0, 100));

        IngestService.Stored first = ingest.store(batch, List.of(), method);
        assertThat(first.usageInserted()).isEqualTo(events.size());
        assertThat(first.usageDuplicates()).isEqualTo(100);
        IngestService.Stored again = ingest.store(events, List.of(), method);
        assertThat(again.usageInserted()).isZero();
        assertThat(again.usageDuplicates()).isEqualTo(events.size());

        List<UsageEvent> stored = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT event_id, project_id, resource_id, metric, quantity, plan, vps_state, period_start, period_end
                FROM usage_event WHERE organization_id = ? ORDER BY period_start""")) {
            ps.setObject(1, org);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    stored.add(new UsageEvent(1, rs.getObject(1, UUID.class), org, rs.getObject(2, UUID.class),
                            rs.getObject(3, UUID.class), UsageMetric.fromWire(rs.getString(4)),
                            rs.getLong(5), Optional.ofNullable(rs.getString(6)), Optional.ofNullable(rs.getString(7)),
                            rs.getObject(8, java.time.OffsetDateTime.class).toInstant(),
                            rs.getObject(9, java.time.OffsetDateTime.class).toInstant()));
                }
            }
        }
        assertThat(stored).containsExactlyElementsOf(events);
    }
}
