// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * The wire shapes of the control protocol (see {@code docs/control-protocol.md}) in one place: events, the
 * {@code info} result, replies. Both the server and {@link DomainClient} use these conversions.
 */
final class Protocol {
    /** Longest request line the server accepts; longer lines are answered with an error and skipped. */
    static final int MAX_REQUEST_LINE = 64 * 1024;
    /** Longest line the client accepts from a runner. */
    static final int MAX_REPLY_LINE = 1024 * 1024;

    private Protocol() { }

    static Map<String, Object> event(DomainEvent e) {
        return switch (e) {
            case DomainEvent.Shutdown s -> Json.obj("event", "shutdown", "reason", s.reason(), "code", (long) s.code(),
                    "ts", s.ts().toString());
            case DomainEvent.Reboot r -> Json.obj("event", "reboot", "ts", r.ts().toString());
            case DomainEvent.Crash c -> Json.obj("event", "crash", "reason", c.reason(), "ts", c.ts().toString());
            case DomainEvent.StateChanged s -> Json.obj("event", "state", "state", s.state().wireName(),
                    "ts", s.ts().toString());
            case DomainEvent.Migration mi -> Json.obj("event", "migration", "phase", mi.phase(), "round", mi.round(),
                    "bytes", mi.bytesSent(), "remaining_pages", mi.remainingPages(), "downtime_us",
                    mi.downtimeMicros(), "total_ms", mi.totalMillis(), "error", mi.error(), "ts", mi.ts().toString());
        };
    }

    /** Reads an event line; unknown event names are a protocol error so the client notices a version skew. */
    static DomainEvent event(Map<String, Object> m) {
        Instant ts = instant(m.get("ts"));
        String name = str(m, "event");
        return switch (name) {
            case "shutdown" -> new DomainEvent.Shutdown(ts, str(m, "reason"), (int) num(m, "code"));
            case "reboot" -> new DomainEvent.Reboot(ts);
            case "crash" -> new DomainEvent.Crash(ts, str(m, "reason"));
            case "state" -> new DomainEvent.StateChanged(ts, state(str(m, "state")));
            case "migration" -> new DomainEvent.Migration(ts, str(m, "phase"), num(m, "round"), num(m, "bytes"),
                    num(m, "remaining_pages"), num(m, "downtime_us"), num(m, "total_ms"), str(m, "error"));
            default -> throw bad("unknown event '" + name + "'");
        };
    }

    static Map<String, Object> info(DomainInfo i) {
        return Json.obj("name", i.name(), "state", i.state().wireName(), "pid", i.pid(), "vcpus", (long) i.vcpus(),
                "memory_mib", (long) i.memoryMiB(), "uptime_ms", i.uptimeMillis(), "cpu_time_ms", i.cpuTimeMillis(),
                "instructions", i.instructions(), "config", i.config(), "restarts", (long) i.restarts());
    }

    static DomainInfo info(Map<String, Object> m) {
        return new DomainInfo(str(m, "name"), state(str(m, "state")), num(m, "pid"), (int) num(m, "vcpus"),
                (int) num(m, "memory_mib"), num(m, "uptime_ms"), num(m, "cpu_time_ms"), num(m, "instructions"),
                str(m, "config"), (int) num(m, "restarts"));
    }

    static Map<String, Object> error(String code, String message) {
        return Json.obj("code", code, "message", message);
    }

    static DomainState state(String s) {
        return DomainState.fromWireName(s).orElseThrow(() -> bad("unknown state '" + s + "'"));
    }

    static String str(Map<String, Object> m, String key) {
        if (m.get(key) instanceof String s) {
            return s;
        }
        throw bad("field '" + key + "' missing or not a string");
    }

    static long num(Map<String, Object> m, String key) {
        if (m.get(key) instanceof Long l) {
            return l;
        }
        throw bad("field '" + key + "' missing or not an integer");
    }

    private static Instant instant(Object o) {
        if (o instanceof String s) {
            try {
                return Instant.parse(s);
            } catch (DateTimeParseException e) {
                throw bad("bad timestamp '" + s + "'");
            }
        }
        throw bad("field 'ts' missing or not a string");
    }

    private static DomainException bad(String message) {
        return new DomainException(DomainException.IO, "protocol error: " + message);
    }
}
