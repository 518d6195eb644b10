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

    /** The domain entered {@code state}. */
    record StateChanged(Instant ts, DomainState state) implements DomainEvent { }
}
