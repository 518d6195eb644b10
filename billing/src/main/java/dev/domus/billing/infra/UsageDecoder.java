// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.domus.api.events.EventCodec;
import dev.domus.api.events.UsageEvent;
import dev.domus.api.events.UsageMetric;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.UUID;

/**
 * Decodes {@code domus.usage} records: a streaming fast path for the canonical shape the producers write (each
 * field once, exact JSON types, 36-character UUIDs, ISO-8601 instants), and {@link EventCodec} for anything else.
 * The fast path only ever accepts documents that EventCodec accepts with the same result (it gives up on every
 * doubt, and validation errors are reported by the EventCodec path, with its messages), so the outcome is the
 * same; it only skips the data binder, the consumer's largest CPU cost per record.
 */
final class UsageDecoder {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int SCHEMA = 1, EVENT = 2, ORG = 4, PROJECT = 8, RESOURCE = 16, METRIC = 32, QUANTITY = 64,
            PLAN = 128, STATE = 256, START = 512, END = 1024;
    private static final int REQUIRED = SCHEMA | EVENT | ORG | PROJECT | RESOURCE | METRIC | QUANTITY | START | END;

    private UsageDecoder() {
    }

    /** The event, or {@link dev.domus.api.events.InvalidEventException} exactly as {@link EventCodec#read}. */
    static UsageEvent decode(byte[] json) {
        UsageEvent fast = fast(json);
        return fast != null ? fast : EventCodec.read(json, UsageEvent.class);
    }

    /** The event when the document has the canonical shape and is valid; otherwise null (decide the slow way). */
    static UsageEvent fast(byte[] json) {
        int schema = 0;
        long quantity = 0;
        UUID event = null, org = null, project = null, resource = null;
        UsageMetric metric = null;
        Optional<String> plan = Optional.empty(), state = Optional.empty();
        Instant start = null, end = null;
        int seen = 0;
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                int bit;
                switch (name) {
                    case "schema_version" -> {
                        bit = SCHEMA;
                        if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
                            return null;
                        }
                        schema = p.getIntValue();
                    }
                    case "quantity" -> {
                        bit = QUANTITY;
                        if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                            return null;
                        }
                        quantity = p.getLongValue();
                    }
                    case "event_id", "organization_id", "project_id", "resource_id" -> {
                        UUID id = v == JsonToken.VALUE_STRING ? uuid(p.getText()) : null;
                        if (id == null) {
                            return null;
                        }
                        switch (name) {
                            case "event_id" -> { bit = EVENT; event = id; }
                            case "organization_id" -> { bit = ORG; org = id; }
                            case "project_id" -> { bit = PROJECT; project = id; }
                            default -> { bit = RESOURCE; resource = id; }
                        }
                    }
                    case "metric" -> {
                        bit = METRIC;
                        metric = v == JsonToken.VALUE_STRING ? metric(p.getText()) : null;
                        if (metric == null) {
                            return null;
                        }
                    }
                    case "plan", "vps_state" -> {
                        Optional<String> s;
                        if (v == JsonToken.VALUE_STRING) {
                            s = Optional.of(p.getText());
                        } else if (v == JsonToken.VALUE_NULL) {
                            s = Optional.empty();
                        } else {
                            return null;
                        }
                        if (name.equals("plan")) {
                            bit = PLAN;
                            plan = s;
                        } else {
                            bit = STATE;
                            state = s;
                        }
                    }
                    case "period_start", "period_end" -> {
                        if (v != JsonToken.VALUE_STRING) {
                            return null;
                        }
                        Instant at = DateTimeFormatter.ISO_INSTANT.parse(p.getText(), Instant::from);
                        if (name.equals("period_start")) {
                            bit = START;
                            start = at;
                        } else {
                            bit = END;
                            end = at;
                        }
                    }
                    default -> {
                        return null; // unknown field: EventCodec reports it
                    }
                }
                if ((seen & bit) != 0) {
                    return null; // duplicate key
                }
                seen |= bit;
            }
            if (t != JsonToken.END_OBJECT || (seen & REQUIRED) != REQUIRED || p.nextToken() != null) {
                return null;
            }
            return new UsageEvent(schema, event, org, project, resource, metric, quantity, plan, state, start, end);
        } catch (java.io.IOException | RuntimeException e) {
            return null; // malformed or invalid: EventCodec produces the error (same message as always)
        }
    }

    /** Canonical 8-4-4-4-12 hex form only (UUID.fromString also takes shorter groups, the data binder does not). */
    private static UUID uuid(String s) {
        if (s.length() != 36) {
            return null;
        }
        for (int i = 0; i < 36; i++) {
            char c = s.charAt(i);
            boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? c != '-' : !hex(c)) {
                return null;
            }
        }
        return UUID.fromString(s);
    }

    private static boolean hex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    private static UsageMetric metric(String s) {
        for (UsageMetric m : UsageMetric.values()) {
            if (m.wire().equals(s)) {
                return m;
            }
        }
        return null;
    }
}
