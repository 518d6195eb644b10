// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class VpsRecordTest {
    static VpsRecord record(UUID id, String ip) {
        return new VpsRecord(VpsRecord.VERSION, id, "web-1", 1, 256, 1, "demo", List.of("ssh-ed25519 AAAA k"), "",
                ip, "10.77.0.1", VpsRecord.macFor(id), Optional.empty(), Optional.empty(), Optional.empty(), true, 0);
    }

    @Test
    void namesAreStableAndFitLinuxLimits() {
        UUID id = UUID.fromString("0b9e1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b");
        VpsRecord r = record(id, "10.77.0.11/24");
        assertThat(r.domainName()).isEqualTo("vps-" + id);
        assertThat(r.tapName()).isEqualTo("dt0b9e1b2c3d4e").hasSizeLessThanOrEqualTo(15);
        assertThat(r.mac()).matches("02(:[0-9a-f]{2}){5}").isEqualTo(VpsRecord.macFor(id));
        assertThat(r.address()).isEqualTo("10.77.0.11");
    }

    @Test
    void badInputIsAClearError() {
        UUID id = UUID.randomUUID();
        assertThatThrownBy(() -> record(id, "10.77.0.11")).isInstanceOf(AgentException.class)
                .hasMessageContaining("ip must be a.b.c.d/prefix");
        assertThatThrownBy(() -> new VpsRecord(VpsRecord.VERSION, id, "web_1", 1, 256, 1, "demo", List.of(), "",
                "10.77.0.11/24", "10.77.0.1", VpsRecord.macFor(id), Optional.empty(), Optional.empty(),
                Optional.empty(), true, 0)).hasMessageContaining("hostname");
        assertThatThrownBy(() -> new VpsRecord(VpsRecord.VERSION, id, "web", 1, 256, 1, "../etc", List.of(), "",
                "10.77.0.11/24", "10.77.0.1", VpsRecord.macFor(id), Optional.empty(), Optional.empty(),
                Optional.empty(), true, 0)).hasMessageContaining("image must be a catalog name");
    }

    @Test
    void powerChangesKeepTheHighestEpoch() {
        VpsRecord r = record(UUID.randomUUID(), "10.77.0.11/24").withPower(false, 7);
        assertThat(r.powerOn()).isFalse();
        assertThat(r.epoch()).isEqualTo(7);
        assertThat(r.withPower(true, 3).epoch()).isEqualTo(7);
    }
}
