// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The billing events (lifecycle, alert, volume usage) match their schemas and refuse bad documents. */
class BillingEventSchemaTest {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12);

    private static Schema schema(String file) throws IOException {
        return REGISTRY.getSchema(Files.readString(Path.of("events", file)), InputFormat.JSON);
    }

    @Test
    void lifecycleRoundTripMatchesSchema() throws IOException {
        VpsLifecycleEvent e = VpsLifecycleEvent.of(VpsLifecycleType.RESIZED, UUID.randomUUID(), UUID.randomUUID(),
                UUID.randomUUID(), "s-2", Instant.parse("2026-12-01T06:30:00Z"));
        String json = EventCodec.writeString(e);
        assertThat(schema("vps-lifecycle.schema.json").validate(json, InputFormat.JSON)).isEmpty();
        assertThat(json).contains("\"type\":\"vps.resized\"").doesNotContain("\"name\"");
        assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8), VpsLifecycleEvent.class)).isEqualTo(e);
        String bad = json.replace("vps.resized", "vps.exploded");
        assertThat(schema("vps-lifecycle.schema.json").validate(bad, InputFormat.JSON)).isNotEmpty();
        assertThatThrownBy(() -> EventCodec.read(bad.getBytes(StandardCharsets.UTF_8), VpsLifecycleEvent.class))
                .isInstanceOf(InvalidEventException.class);
    }

    @Test
    void alertRoundTripMatchesSchema() throws IOException {
        BillingAlertEvent a = new BillingAlertEvent(1, UUID.randomUUID(), UUID.randomUUID(), "2026-12", "EUR", 1000,
                1234, Instant.parse("2026-12-01T06:30:00Z"));
        String json = EventCodec.writeString(a);
        assertThat(schema("billing-alert.schema.json").validate(json, InputFormat.JSON)).isEmpty();
        assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8), BillingAlertEvent.class)).isEqualTo(a);
        assertThatThrownBy(() -> new BillingAlertEvent(1, UUID.randomUUID(), UUID.randomUUID(), "2026-13", "EUR", 1,
                1, Instant.now())).hasMessageContaining("period must be YYYY-MM");
    }

    @Test
    void volumeUsageMatchesSchema() throws IOException {
        Instant a = Instant.parse("2026-12-01T06:00:00Z");
        Instant b = Instant.parse("2026-12-01T07:00:00Z");
        UUID vol = UUID.randomUUID();
        UsageEvent u = new UsageEvent(1, UsageEvent.idFor(vol, UsageMetric.VOLUME_GB_HOURS, a, b), UUID.randomUUID(),
                UUID.randomUUID(), vol, UsageMetric.VOLUME_GB_HOURS, 40, Optional.empty(), Optional.empty(), a, b);
        String json = EventCodec.writeString(u);
        assertThat(schema("usage.schema.json").validate(json, InputFormat.JSON)).isEmpty();
        assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8), UsageEvent.class)).isEqualTo(u);
    }
}
