// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StackMainTest {

    @Test
    void parsesStart() {
        StackMain.Args a = StackMain.parse(new String[] {"start", "--state-dir", "/tmp/s", "--pg-port", "5433",
                "--kafka-port", "9093", "--keycloak-port", "8181", "--databases", "a,b_c"});
        assertThat(a.stateDir()).isEqualTo(Path.of("/tmp/s"));
        assertThat(a.pgPort()).isEqualTo(5433);
        assertThat(a.kafkaPort()).isEqualTo(9093);
        assertThat(a.keycloakPort()).isEqualTo(8181);
        assertThat(a.databases()).isEqualTo(List.of("a", "b_c"));
    }

    @Test
    void badUsageSaysWhatIsWrong() {
        assertThatThrownBy(() -> StackMain.parse(new String[] {})).hasMessage("missing command");
        assertThatThrownBy(() -> StackMain.parse(new String[] {"stop"})).hasMessage("unknown command: stop");
        assertThatThrownBy(() -> StackMain.parse(new String[] {"start"})).hasMessage("--state-dir is required");
        assertThatThrownBy(() -> StackMain.parse(new String[] {"start", "--state-dir", "d", "--pg-port", "x"}))
                .hasMessage("--pg-port must be a positive number, got x");
        assertThatThrownBy(() -> StackMain.parse(new String[] {"start", "--state-dir", "d", "--kafka-port", "70000"}))
                .hasMessage("--kafka-port must be 1..65535, got 70000");
        assertThatThrownBy(() -> StackMain.parse(new String[] {"start", "--state-dir"}))
                .hasMessage("--state-dir needs a value");
        assertThatThrownBy(() -> StackMain.parse(new String[] {"start", "--bogus", "1"}))
                .hasMessage("unknown option: --bogus");
    }
}
