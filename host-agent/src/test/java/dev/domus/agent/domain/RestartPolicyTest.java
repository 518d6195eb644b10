// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartPolicyTest {
    private final RestartPolicy policy = new RestartPolicy(3, Duration.ofMinutes(10), Duration.ofSeconds(1),
            Duration.ofSeconds(3));
    private final Instant now = Instant.parse("2026-12-01T07:00:00Z");

    @Test
    void backoffDoublesAndIsCapped() {
        assertThat(policy.decide(List.of(), now)).isEqualTo(new RestartPolicy.Decision.Restart(Duration.ofSeconds(1), 1));
        assertThat(policy.decide(List.of(now.minusSeconds(5)), now))
                .isEqualTo(new RestartPolicy.Decision.Restart(Duration.ofSeconds(2), 2));
        assertThat(policy.decide(List.of(now.minusSeconds(5), now.minusSeconds(4)), now))
                .isEqualTo(new RestartPolicy.Decision.Restart(Duration.ofSeconds(3), 3));
    }

    @Test
    void givesUpAfterMaxRestartsInTheWindow() {
        var d = policy.decide(List.of(now.minusSeconds(30), now.minusSeconds(20), now.minusSeconds(10)), now);
        assertThat(d).isInstanceOf(RestartPolicy.Decision.GiveUp.class);
        assertThat(((RestartPolicy.Decision.GiveUp) d).reason()).contains("3 restarts within 600 s");
    }

    @Test
    void restartsOutsideTheWindowAreForgotten() {
        var d = policy.decide(List.of(now.minusSeconds(3600), now.minusSeconds(3000), now.minusSeconds(10)), now);
        assertThat(d).isEqualTo(new RestartPolicy.Decision.Restart(Duration.ofSeconds(2), 2));
    }
}
