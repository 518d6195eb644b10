// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.time.Instant;

/** Asynchronous notifications a domain pushes to subscribed control clients. */
public sealed interface DomainEvent {
    /** When the event happened. */
    Instant ts();

    /**
     * The guest powered off ({@code reason = "poweroff"}, {@code code} = the guest's exit code) or the host
     * destroyed the domain ({@code reason = "destroyed"}).
     */
    record Shutdown(Instant ts, String reason, int code) implements DomainEvent { }

    /** The guest asked for a reboot. */
    record Reboot(Instant ts) implements DomainEvent { }

    /** The guest crashed; {@code reason} is the machine's description. */
    record Crash(Instant ts, String reason) implements DomainEvent { }

    /**
     * Live migration progress and outcome: {@code phase} is {@code round} (after each pre-copy round),
     * {@code done} (the guest runs on the target; this domain ends) or {@code failed} (the guest runs on here;
     * {@code error} says why). Sizes in bytes and pages, times in milliseconds except {@code downtimeMicros}.
     */
    record Migration(Instant ts, String phase, long round, long bytesSent, long remainingPages, long downtimeMicros,
                     long totalMillis, String error) implements DomainEvent { }

    /** The domain entered {@code state}. */
    record StateChanged(Instant ts, DomainState state) implements DomainEvent { }
}
