// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.domain.VpsPhase;
import dev.domus.api.events.HostCommandType;
import dev.domus.api.events.HostEvent;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The outcome event of each recently applied command, kept so that a command the control plane publishes again
 * (it never heard the outcome: the event was lost, or the agent died before sending it) is answered with that same
 * event instead of silence. The event keeps its id, so a control plane that did get it the first time ignores the
 * copy. Memory only and bounded: after an agent restart {@link #derived} answers the idempotent commands from the
 * VPS's current state, and the control plane's deadline covers the rest.
 */
final class CommandOutcomes {
    private final Map<UUID, HostEvent> byCommand;

    CommandOutcomes(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.byCommand = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<UUID, HostEvent> eldest) {
                return size() > capacity;
            }
        };
    }

    synchronized void put(UUID commandId, HostEvent outcome) {
        byCommand.put(commandId, outcome);
    }

    synchronized Optional<HostEvent> get(UUID commandId) {
        return Optional.ofNullable(byCommand.get(commandId));
    }

    /**
     * Whether an already applied command of this type evidently succeeded, judging by the VPS now (empty = the VPS
     * is not on this host): a delete when the VPS is gone, a power-on when it runs, a power-off or shutdown when it
     * is off. Other types cannot be told from the state.
     */
    static boolean derived(HostCommandType type, Optional<VpsPhase> phase) {
        return switch (type) {
            case DELETE -> phase.isEmpty() || phase.get() == VpsPhase.DELETED;
            case POWER_ON -> phase.isPresent() && phase.get() == VpsPhase.RUNNING;
            case POWER_OFF, SHUTDOWN -> phase.isPresent() && phase.get() == VpsPhase.OFF;
            default -> false;
        };
    }
}
