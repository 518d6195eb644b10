// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.InvalidEventException;
import dev.domus.api.events.UsageEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fast path must decide every document exactly as the data binder does: same event or same error. */
class UsageDecoderTest {
    private static final String VALID = """
            {"schema_version":1,"event_id":"0b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7f",\
            "organization_id":"11111111-2222-3333-4444-555555555555","project_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",\
            "resource_id":"ABCDEF01-2345-6789-abcd-ef0123456789","metric":"vps_minutes","quantity":60,\
            "plan":"s-1","vps_state":"running","period_start":"2026-12-01T10:00:00Z","period_end":"2026-12-01T11:00:00Z"}""";

    @Test
    void canonicalDocumentsTakeTheFastPathWithTheSameResult() {
        UsageEvent fast = UsageDecoder.fast(bytes(VALID));
        assertThat(fast).isNotNull().isEqualTo(EventCodec.read(bytes(VALID), UsageEvent.class));
        // What the producers write round-trips through the fast path.
        byte[] written = EventCodec.write(fast);
        assertThat(UsageDecoder.fast(written)).isEqualTo(fast);
        String transfer = VALID.replace("\"vps_minutes\"", "\"transfer_bytes\"").replace("\"plan\":\"s-1\",", "")
                .replace("\"vps_state\":\"running\"", "\"vps_state\":null").replace("60", "9007199254740993");
        assertThat(UsageDecoder.fast(bytes(transfer))).isNotNull()
                .isEqualTo(EventCodec.read(bytes(transfer), UsageEvent.class));
    }

    @Test
    void everyVariantIsDecidedLikeTheDataBinder() {
        List<String> docs = new ArrayList<>();
        docs.add(VALID);
        docs.add(VALID.replace("\"schema_version\":1", "\"schema_version\":2"));
        docs.add(VALID.replace("\"schema_version\":1", "\"schema_version\":\"1\""));
        docs.add(VALID.replace("\"schema_version\":1", "\"schema_version\":1.0"));
        docs.add(VALID.replace("\"schema_version\":1,", ""));
        docs.add(VALID.replace("\"quantity\":60", "\"quantity\":-1"));
        docs.add(VALID.replace("\"quantity\":60", "\"quantity\":99999999999999999999999"));
        docs.add(VALID.replace("\"quantity\":60", "\"quantity\":null"));
        docs.add(VALID.replace("\"quantity\":60", "\"quantity\":\"60\""));
        docs.add(VALID.replace("\"quantity\":60,", ""));
        docs.add(VALID.replace("0b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7f", "1-1-1-1-1"));
        docs.add(VALID.replace("0b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7f", "0b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7g"));
        docs.add(VALID.replace("0b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7f", "0b7c1f5e09d3a-4c2e-8f10-2a3b4c5d6e7f"));
        docs.add(VALID.replace("0b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7f", "\uff10b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7"));
        docs.add(VALID.replace("\"event_id\":\"0b7c1f5e-9d3a-4c2e-8f10-2a3b4c5d6e7f\"", "\"event_id\":null"));
        docs.add(VALID.replace("\"metric\":\"vps_minutes\"", "\"metric\":\"cpu_seconds\""));
        docs.add(VALID.replace("\"metric\":\"vps_minutes\"", "\"metric\":7"));
        docs.add(VALID.replace("\"plan\":\"s-1\"", "\"plan\":null"));
        docs.add(VALID.replace("\"plan\":\"s-1\"", "\"plan\":5"));
        docs.add(VALID.replace("\"plan\":\"s-1\"", "\"plan\":[\"s-1\"]"));
        docs.add(VALID.replace("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.123456789Z"));
        docs.add(VALID.replace("2026-12-01T10:00:00Z", "2026-12-01T10:00:00+01:00"));
        docs.add(VALID.replace("2026-12-01T10:00:00Z", "2026-12-01T10:00:00z"));
        docs.add(VALID.replace("2026-12-01T10:00:00Z", "2026-12-01 10:00:00Z"));
        docs.add(VALID.replace("\"2026-12-01T10:00:00Z\"", "1764583200"));
        docs.add(VALID.replace("\"2026-12-01T10:00:00Z\"", "\"1764583200\""));
        docs.add(VALID.replace("2026-12-01T11:00:00Z", "2026-12-01T09:00:00Z"));
        docs.add(VALID.replace("\"plan\":\"s-1\"", "\"plan\":\"s-1\",\"plan\":\"s-2\""));
        docs.add(VALID.replace("\"plan\":\"s-1\"", "\"plan\":\"s-1\",\"colour\":\"red\""));
        docs.add(VALID + " ");
        docs.add(VALID + " {}");
        docs.add(VALID + " x");
        docs.add(VALID.substring(0, VALID.length() - 1));
        docs.add("[]");
        docs.add("null");
        docs.add("");
        docs.add("{}");
        docs.add("{\"schema_version\":1}");
        for (String doc : docs) {
            Outcome slow = slow(doc);
            Outcome decoded = decoded(doc);
            assertThat(decoded).as("document %s", doc).isEqualTo(slow);
            UsageEvent fast = UsageDecoder.fast(bytes(doc));
            if (fast != null) {
                assertThat(slow.event()).as("fast path accepted what the binder refuses: %s", doc).isEqualTo(fast);
            }
        }
    }

    private record Outcome(UsageEvent event, String error) { }

    private static Outcome slow(String doc) {
        try {
            return new Outcome(EventCodec.read(bytes(doc), UsageEvent.class), null);
        } catch (InvalidEventException e) {
            return new Outcome(null, e.getMessage());
        }
    }

    private static Outcome decoded(String doc) {
        try {
            return new Outcome(UsageDecoder.decode(bytes(doc)), null);
        } catch (InvalidEventException e) {
            return new Outcome(null, e.getMessage());
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
