// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.ActionType;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * When a running action is given up or its command re-published: pure decisions on timestamps, so they are unit
 * tested without a database. An action past its deadline fails with {@code host_unreachable} when the host never
 * acknowledged the command (no event at all: agent down, message lost, host dead) and with {@code timeout} when it
 * did but reported no outcome in time.
 */
final class ActionPolicy {
    /** Used for types without their own entry and without a {@code default} entry. */
    static final Duration FALLBACK = Duration.ofMinutes(15);
    static final String HOST_UNREACHABLE = "host_unreachable";
    static final String TIMEOUT = "timeout";

    /** What to do with one running action now. */
    public sealed interface Verdict {
        /** Nothing yet. */
        record Wait() implements Verdict { }

        /** Publish its command again (same command id: the agent applies it once). */
        record Republish() implements Verdict { }

        /** Fail it with this error. */
        record Expire(String code, String message) implements Verdict { }
    }

    /** The timestamps of one running action. */
    public record Timing(ActionType type, Instant startedAt, Instant deadline, Optional<Instant> ackedAt,
                         Optional<Instant> republishedAt) { }

    private final Map<ActionType, Duration> timeouts;
    private final Duration republishAfter;

    ActionPolicy(Map<ActionType, Duration> timeouts, Duration republishAfter) {
        this.timeouts = new EnumMap<>(timeouts);
        this.republishAfter = republishAfter;
    }

    /**
     * From the configuration ({@code domus.actions.timeout.<type>}); a key that is no action type, or a
     * non-positive duration, is an error naming the key.
     */
    public static ActionPolicy of(Map<String, Duration> configured, Duration republishAfter) {
        if (republishAfter.isNegative() || republishAfter.isZero()) {
            throw new IllegalArgumentException("domus.actions.republish-after must be positive, got " + republishAfter);
        }
        Map<ActionType, Duration> out = new EnumMap<>(ActionType.class);
        Duration dflt = positive("default", configured.getOrDefault("default", FALLBACK));
        TreeSet<String> known = new TreeSet<>();
        for (ActionType t : ActionType.values()) {
            known.add(t.wire());
            out.put(t, positive(t.wire(), configured.getOrDefault(t.wire(), dflt)));
        }
        for (String k : configured.keySet()) {
            if (!k.equals("default") && !known.contains(k)) {
                throw new IllegalArgumentException("domus.actions.timeout." + k + ": unknown action type; known: "
                        + "default, " + String.join(", ", known));
            }
        }
        return new ActionPolicy(out, republishAfter);
    }

    private static Duration positive(String key, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("domus.actions.timeout." + key + " must be positive, got " + d);
        }
        return d;
    }

    public Duration timeout(ActionType type) {
        return timeouts.get(type);
    }

    public Duration republishAfter() {
        return republishAfter;
    }

    /** The deadline of an action of this type started at {@code startedAt}. */
    public Instant deadline(ActionType type, Instant startedAt) {
        return startedAt.plus(timeouts.get(type));
    }

    public Verdict decide(Timing t, Instant now) {
        if (!now.isBefore(t.deadline())) {
            Duration limit = Duration.between(t.startedAt(), t.deadline());
            return t.ackedAt().isEmpty()
                    ? new Verdict.Expire(HOST_UNREACHABLE, "the host never acknowledged the " + t.type().wire()
                            + " command within " + human(limit) + " (agent down, message lost or host dead)")
                    : new Verdict.Expire(TIMEOUT, "the host acknowledged the " + t.type().wire()
                            + " command but reported no outcome within " + human(limit));
        }
        if (t.ackedAt().isPresent()) {
            return new Verdict.Wait();
        }
        Instant last = t.republishedAt().orElse(t.startedAt());
        return Duration.between(last, now).compareTo(republishAfter) >= 0 ? new Verdict.Republish() : new Verdict.Wait();
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s % 3600 == 0 && s > 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0 && s > 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
