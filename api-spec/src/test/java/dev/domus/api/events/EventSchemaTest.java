// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The records write documents their JSON Schemas accept, read them back equal, and refuse bad ones. */
class EventSchemaTest {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12);

    private static Schema schema(String file) throws IOException {
        return REGISTRY.getSchema(Files.readString(Path.of("events", file)), InputFormat.JSON);
    }

    private static List<Error> errors(Schema schema, String json) {
        return schema.validate(json, InputFormat.JSON);
    }

    @Test
    void hostCommandRoundTripMatchesSchema() throws IOException {
        VpsSpec spec = new VpsSpec("web-1", 2, 2048, 40, "debian-12", List.of("ssh-ed25519 AAAA"), "#cloud-config");
        HostCommand cmd = HostCommand.of(HostCommandType.CREATE, UUID.randomUUID(), UUID.randomUUID(),
                UUID.randomUUID(), 3, Optional.of(spec), Optional.empty());
        String json = EventCodec.writeString(cmd);
        assertThat(errors(schema("host-command.schema.json"), json)).isEmpty();
        assertThat(json).contains("\"type\":\"vps.create\"").doesNotContain("snapshot_name");
        assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8), HostCommand.class)).isEqualTo(cmd);
    }

    @Test
    void resizeCommandWithPlanAddressAndOwnerMatchesSchema() throws IOException {
        UUID org = UUID.randomUUID();
        VpsSpec spec = new VpsSpec("web-1", 2, 2048, 40, "debian-12", List.of(), "", Optional.of("s-2"),
                Optional.of("10.77.0.11/24"), Optional.of(org), Optional.of(UUID.randomUUID()));
        HostCommand cmd = HostCommand.of(HostCommandType.RESIZE, UUID.randomUUID(), UUID.randomUUID(),
                UUID.randomUUID(), 4, Optional.of(spec), Optional.empty());
        String json = EventCodec.writeString(cmd);
        assertThat(errors(schema("host-command.schema.json"), json)).isEmpty();
        assertThat(json).contains("\"plan\":\"s-2\"").contains("\"ip\":\"10.77.0.11/24\"")
                .contains("\"organization_id\":\"" + org + "\"");
        assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8), HostCommand.class)).isEqualTo(cmd);
        // A bad address is refused by the record and by the schema.
        assertThatThrownBy(() -> new VpsSpec("x", 1, 256, 1, "img", List.of(), "", Optional.empty(),
                Optional.of("10.0.0.1"), Optional.empty(), Optional.empty())).hasMessageContaining("spec.ip");
        assertThat(errors(schema("host-command.schema.json"), json.replace("10.77.0.11/24", "nope"))).isNotEmpty();
        assertThat(VpsSpec.macFor(cmd.vpsId())).matches("02(:[0-9a-f]{2}){5}");
    }

    @Test
    void hostEventsMatchSchema() throws IOException {
        Schema schema = schema("host-event.schema.json");
        HostEvent ok = HostEvent.action(HostEventType.ACTION_SUCCEEDED, UUID.randomUUID(), UUID.randomUUID(),
                UUID.randomUUID(), 100, Optional.empty(), Optional.empty());
        HostEvent hb = HostEvent.heartbeat(UUID.randomUUID(), 4);
        HostUtilization u = new HostUtilization(2, 24_000, 3, 768, 57.5, 600_000_000L, List.of(
                new HostUtilization.Vps(UUID.randomUUID(), 1, 256, 12.5, 200_000_000L),
                new HostUtilization.Vps(UUID.randomUUID(), 2, 512, 45.0, 400_000_000L)));
        HostEvent hbUtil = HostEvent.heartbeat(UUID.randomUUID(), 2, u);
        for (HostEvent e : List.of(ok, hb, hbUtil)) {
            String json = EventCodec.writeString(e);
            assertThat(errors(schema, json)).as(json).isEmpty();
            assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8), HostEvent.class)).isEqualTo(e);
        }
        // The schema and the record agree that a failure needs a code.
        String failedNoCode = """
                {"schema_version":1,"event_id":"%s","type":"action.failed","host_id":"%s",
                 "occurred_at":"2026-12-01T06:00:00Z","vps_id":"%s","action_id":"%s"}"""
                .formatted(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        assertThat(errors(schema, failedNoCode)).isNotEmpty();
        assertThatThrownBy(() -> EventCodec.read(failedNoCode.getBytes(StandardCharsets.UTF_8), HostEvent.class))
                .isInstanceOf(InvalidEventException.class).hasMessageContaining("error_code");
    }

    @Test
    void utilizationIsCheckedByBothSchemaAndRecord() throws IOException {
        Schema schema = schema("host-event.schema.json");
        String negativeCpu = """
                {"schema_version":1,"event_id":"%s","type":"host.heartbeat","host_id":"%s",
                 "occurred_at":"2026-12-01T06:00:00Z","running_vps":1,"utilization":{"cpu_count":2,"memory_mb":1,
                 "allocated_vcpus":1,"allocated_memory_mb":256,"cpu_percent":-1,"rss_bytes":1,"vps":[]}}"""
                .formatted(UUID.randomUUID(), UUID.randomUUID());
        assertThat(errors(schema, negativeCpu)).isNotEmpty();
        assertThatThrownBy(() -> EventCodec.read(negativeCpu.getBytes(StandardCharsets.UTF_8), HostEvent.class))
                .isInstanceOf(InvalidEventException.class).hasMessageContaining("cpu_percent");
        // Utilization on another event type is refused by both.
        String onAction = """
                {"schema_version":1,"event_id":"%s","type":"action.succeeded","host_id":"%s",
                 "occurred_at":"2026-12-01T06:00:00Z","vps_id":"%s","action_id":"%s","utilization":{"cpu_count":2,
                 "memory_mb":1,"allocated_vcpus":1,"allocated_memory_mb":256,"cpu_percent":1,"rss_bytes":1,"vps":[]}}"""
                .formatted(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        assertThat(errors(schema, onAction)).isNotEmpty();
        assertThatThrownBy(() -> EventCodec.read(onAction.getBytes(StandardCharsets.UTF_8), HostEvent.class))
                .isInstanceOf(InvalidEventException.class).hasMessageContaining("host.heartbeat");
        String unknownVpsField = """
                {"schema_version":1,"event_id":"%s","type":"host.heartbeat","host_id":"%s",
                 "occurred_at":"2026-12-01T06:00:00Z","utilization":{"cpu_count":2,"memory_mb":1,
                 "allocated_vcpus":1,"allocated_memory_mb":256,"cpu_percent":1,"rss_bytes":1,
                 "vps":[{"vps_id":"%s","vcpus":1,"memory_mb":256,"cpu_percent":1,"rss_bytes":1,"disk":1}]}}"""
                .formatted(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        assertThat(errors(schema, unknownVpsField)).isNotEmpty();
        assertThatThrownBy(() -> EventCodec.read(unknownVpsField.getBytes(StandardCharsets.UTF_8), HostEvent.class))
                .isInstanceOf(InvalidEventException.class);
    }

    @Test
    void usageEventHasDeterministicIdAndMatchesSchema() throws IOException {
        UUID vps = UUID.randomUUID();
        Instant a = Instant.parse("2026-12-01T06:00:00Z");
        Instant b = Instant.parse("2026-12-01T07:00:00Z");
        UUID id = UsageEvent.idFor(vps, UsageMetric.VPS_MINUTES, a, b);
        assertThat(UsageEvent.idFor(vps, UsageMetric.VPS_MINUTES, a, b)).isEqualTo(id);
        assertThat(UsageEvent.idFor(vps, UsageMetric.TRANSFER_BYTES, a, b)).isNotEqualTo(id);
        UsageEvent u = new UsageEvent(1, id, UUID.randomUUID(), UUID.randomUUID(), vps, UsageMetric.VPS_MINUTES, 60,
                Optional.of("s-1"), Optional.of("running"), a, b);
        String json = EventCodec.writeString(u);
        assertThat(errors(schema("usage.schema.json"), json)).isEmpty();
        assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8), UsageEvent.class)).isEqualTo(u);
    }

    @Test
    void badDocumentsAreRefused() {
        assertThatThrownBy(() -> EventCodec.read("{".getBytes(StandardCharsets.UTF_8), HostEvent.class))
                .isInstanceOf(InvalidEventException.class);
        String unknownField = """
                {"schema_version":1,"event_id":"%s","type":"host.heartbeat","host_id":"%s",
                 "occurred_at":"2026-12-01T06:00:00Z","extra":1}""".formatted(UUID.randomUUID(), UUID.randomUUID());
        assertThatThrownBy(() -> EventCodec.read(unknownField.getBytes(StandardCharsets.UTF_8), HostEvent.class))
                .isInstanceOf(InvalidEventException.class);
        String version2 = """
                {"schema_version":2,"event_id":"%s","type":"host.heartbeat","host_id":"%s",
                 "occurred_at":"2026-12-01T06:00:00Z"}""".formatted(UUID.randomUUID(), UUID.randomUUID());
        assertThatThrownBy(() -> EventCodec.read(version2.getBytes(StandardCharsets.UTF_8), HostEvent.class))
                .isInstanceOf(InvalidEventException.class).hasMessageContaining("schema_version");
        assertThatThrownBy(() -> new VpsSpec("x", 0, 2048, 10, "img", List.of(), ""))
                .hasMessageContaining("vcpus must be 1..64, got 0");
    }
}
