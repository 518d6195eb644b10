// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.cp.domain.ActionType;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The deadline and re-publish decisions of {@link ActionPolicy}, on fixed timestamps. */
class ActionPolicyTest {
    private static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");
    private final ActionPolicy policy = ActionPolicy.of(Map.of("default", Duration.ofMinutes(10),
            "create", Duration.ofMinutes(15), "power_on", Duration.ofSeconds(90)), Duration.ofSeconds(20));

    private ActionPolicy.Timing timing(ActionType type, Optional<Instant> acked, Optional<Instant> republished) {
        return new ActionPolicy.Timing(type, T0, policy.deadline(type, T0), acked, republished);
    }

    @Test
    void deadlinesComeFromTheTypeOrTheDefault() {
        assertThat(policy.deadline(ActionType.CREATE, T0)).isEqualTo(T0.plus(Duration.ofMinutes(15)));
        assertThat(policy.deadline(ActionType.POWER_ON, T0)).isEqualTo(T0.plusSeconds(90));
        assertThat(policy.deadline(ActionType.REBOOT, T0)).isEqualTo(T0.plus(Duration.ofMinutes(10)));
        assertThat(ActionPolicy.of(Map.of(), Duration.ofSeconds(1)).timeout(ActionType.DELETE))
                .isEqualTo(ActionPolicy.FALLBACK);
    }

    @Test
    void anUnacknowledgedCommandIsRepublishedOncePerInterval() {
        ActionPolicy.Timing fresh = timing(ActionType.POWER_ON, Optional.empty(), Optional.empty());
        assertThat(policy.decide(fresh, T0.plusSeconds(19))).isInstanceOf(ActionPolicy.Verdict.Wait.class);
        assertThat(policy.decide(fresh, T0.plusSeconds(20))).isInstanceOf(ActionPolicy.Verdict.Republish.class);
        ActionPolicy.Timing again = timing(ActionType.POWER_ON, Optional.empty(), Optional.of(T0.plusSeconds(20)));
        assertThat(policy.decide(again, T0.plusSeconds(39))).isInstanceOf(ActionPolicy.Verdict.Wait.class);
        assertThat(policy.decide(again, T0.plusSeconds(40))).isInstanceOf(ActionPolicy.Verdict.Republish.class);
    }

    @Test
    void anAcknowledgedCommandIsNeverRepublished() {
        ActionPolicy.Timing acked = timing(ActionType.POWER_ON, Optional.of(T0.plusSeconds(1)), Optional.empty());
        assertThat(policy.decide(acked, T0.plusSeconds(60))).isInstanceOf(ActionPolicy.Verdict.Wait.class);
    }

    @Test
    void pastTheDeadlineSilenceIsHostUnreachableAndAckWithoutOutcomeIsTimeout() {
        Instant late = T0.plusSeconds(90);
        ActionPolicy.Verdict silent = policy.decide(timing(ActionType.POWER_ON, Optional.empty(),
                Optional.of(T0.plusSeconds(80))), late);
        assertThat(silent).isInstanceOfSatisfying(ActionPolicy.Verdict.Expire.class, x -> {
            assertThat(x.code()).isEqualTo(ActionPolicy.HOST_UNREACHABLE);
            assertThat(x.message()).contains("power_on").contains("90s").contains("never acknowledged");
        });
        ActionPolicy.Verdict acked = policy.decide(timing(ActionType.CREATE, Optional.of(T0.plusSeconds(2)),
                Optional.empty()), T0.plus(Duration.ofMinutes(15)));
        assertThat(acked).isInstanceOfSatisfying(ActionPolicy.Verdict.Expire.class, x -> {
            assertThat(x.code()).isEqualTo(ActionPolicy.TIMEOUT);
            assertThat(x.message()).contains("create").contains("15m").contains("no outcome");
        });
        assertThat(policy.decide(timing(ActionType.CREATE, Optional.empty(), Optional.empty()),
                T0.plus(Duration.ofMinutes(15)).minusMillis(1))).isNotInstanceOf(ActionPolicy.Verdict.Expire.class);
    }

    @Test
    void badConfigurationNamesTheKey() {
        assertThatThrownBy(() -> ActionPolicy.of(Map.of("power-on", Duration.ofMinutes(1)), Duration.ofSeconds(5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("domus.actions.timeout.power-on")
                .hasMessageContaining("power_on");
        assertThatThrownBy(() -> ActionPolicy.of(Map.of("delete", Duration.ZERO), Duration.ofSeconds(5)))
                .hasMessageContaining("domus.actions.timeout.delete must be positive");
        assertThatThrownBy(() -> ActionPolicy.of(Map.of(), Duration.ZERO))
                .hasMessageContaining("republish-after must be positive");
    }
}
