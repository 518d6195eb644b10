// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Crash-restart policy: at most {@code maxRestarts} restarts within a sliding {@code window}, each after an
 * exponential backoff ({@code initialBackoff * 2^n}, capped), then give up. Pure logic so it is tested alone.
 */
public record RestartPolicy(int maxRestarts, Duration window, Duration initialBackoff, Duration maxBackoff) {
    public RestartPolicy {
        if (maxRestarts < 0 || window.isNegative() || initialBackoff.isNegative() || maxBackoff.isNegative()) {
            throw new IllegalArgumentException("restart policy values must be >= 0");
        }
    }

    /** What to do after a crash. */
    public sealed interface Decision {
        /** Restart after {@code delay}; this is restart number {@code attempt} within the window. */
        record Restart(Duration delay, int attempt) implements Decision { }

        /** Too many restarts: {@code reason} says so. */
        record GiveUp(String reason) implements Decision { }
    }

    /** Decides for a crash at {@code now}, given the times of earlier restarts (any order). */
    public Decision decide(List<Instant> earlierRestarts, Instant now) {
        Instant from = now.minus(window);
        int recent = 0;
        for (Instant t : earlierRestarts) {
            if (t.isAfter(from)) {
                recent++;
            }
        }
        if (recent >= maxRestarts) {
            return new Decision.GiveUp(recent + " restarts within " + window.toSeconds() + " s (limit "
                    + maxRestarts + ")");
        }
        long ms = initialBackoff.toMillis() << Math.min(recent, 20);
        return new Decision.Restart(Duration.ofMillis(Math.min(ms, maxBackoff.toMillis())), recent + 1);
    }
}
