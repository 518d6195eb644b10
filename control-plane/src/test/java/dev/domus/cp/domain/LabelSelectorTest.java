// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelSelectorTest {

    @Test
    void parsesAndMatches() {
        LabelSelector s = LabelSelector.parse("env=prod, tier!=db,team,!legacy");
        assertThat(s.terms()).containsExactly(new LabelSelector.Equals("env", "prod"),
                new LabelSelector.NotEquals("tier", "db"), new LabelSelector.Exists("team"),
                new LabelSelector.Absent("legacy"));
        assertThat(s.matches(Map.of("env", "prod", "tier", "web", "team", "a"))).isTrue();
        assertThat(s.matches(Map.of("env", "prod", "team", "a"))).isTrue();
        assertThat(s.matches(Map.of("env", "prod", "tier", "db", "team", "a"))).isFalse();
        assertThat(s.matches(Map.of("env", "prod", "team", "a", "legacy", ""))).isFalse();
        assertThat(LabelSelector.parse("env==prod").terms()).containsExactly(new LabelSelector.Equals("env", "prod"));
        assertThat(LabelSelector.parse("").terms()).isEmpty();
    }

    @Test
    void refusesBadTerms() {
        assertThatThrownBy(() -> LabelSelector.parse("Bad Key")).hasMessageContaining("bad label key");
        assertThatThrownBy(() -> LabelSelector.parse("env=a b")).hasMessageContaining("bad label value");
        assertThatThrownBy(() -> Labels.validate("labels", Map.of("UPPER", "x"))).hasMessageContaining("bad label key");
    }
}
