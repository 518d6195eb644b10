// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.agent.domain.VpsPhase;
import dev.domus.api.events.HostCommandType;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostEventType;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What the agent answers to a command it already applied ({@link CommandOutcomes}). */
class CommandOutcomesTest {
    private static HostEvent outcome() {
        return HostEvent.action(HostEventType.ACTION_SUCCEEDED, UUID.randomUUID(), UUID.randomUUID(),
                UUID.randomUUID(), 100, Optional.empty(), Optional.empty());
    }

    @Test
    void keepsTheSameEventForAReplayAndForgetsTheOldestBeyondCapacity() {
        CommandOutcomes o = new CommandOutcomes(2);
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        UUID c = UUID.randomUUID();
        HostEvent ea = outcome();
        o.put(a, ea);
        o.put(b, outcome());
        assertThat(o.get(a)).containsSame(ea);
        o.put(c, outcome());
        assertThat(o.get(a)).isEmpty();
        assertThat(o.get(b)).isPresent();
        assertThat(o.get(c)).isPresent();
        assertThatThrownBy(() -> new CommandOutcomes(0)).hasMessageContaining("capacity must be >= 1");
    }

    @Test
    void derivesSuccessOnlyWhereTheStateShowsIt() {
        assertThat(CommandOutcomes.derived(HostCommandType.DELETE, Optional.empty())).isTrue();
        assertThat(CommandOutcomes.derived(HostCommandType.DELETE, Optional.of(VpsPhase.DELETED))).isTrue();
        assertThat(CommandOutcomes.derived(HostCommandType.DELETE, Optional.of(VpsPhase.RUNNING))).isFalse();
        assertThat(CommandOutcomes.derived(HostCommandType.POWER_ON, Optional.of(VpsPhase.RUNNING))).isTrue();
        assertThat(CommandOutcomes.derived(HostCommandType.POWER_ON, Optional.of(VpsPhase.OFF))).isFalse();
        assertThat(CommandOutcomes.derived(HostCommandType.POWER_ON, Optional.empty())).isFalse();
        assertThat(CommandOutcomes.derived(HostCommandType.POWER_OFF, Optional.of(VpsPhase.OFF))).isTrue();
        assertThat(CommandOutcomes.derived(HostCommandType.SHUTDOWN, Optional.of(VpsPhase.OFF))).isTrue();
        assertThat(CommandOutcomes.derived(HostCommandType.SHUTDOWN, Optional.of(VpsPhase.RUNNING))).isFalse();
        // A create, resize or rebuild cannot be told from the phase: no guess.
        assertThat(CommandOutcomes.derived(HostCommandType.CREATE, Optional.of(VpsPhase.RUNNING))).isFalse();
        assertThat(CommandOutcomes.derived(HostCommandType.RESIZE, Optional.of(VpsPhase.OFF))).isFalse();
    }
}
