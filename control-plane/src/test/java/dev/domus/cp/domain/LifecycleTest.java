// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The state machine: every (state, action) pair either starts with the right transitional state or is refused. */
class LifecycleTest {

    @Test
    void everyPairIsDecided() {
        for (VpsStatus s : VpsStatus.values()) {
            for (ActionType a : ActionType.values()) {
                if (a.allowedFrom().contains(s)) {
                    assertThat(s.settled()).as(s + " must be settled to start " + a).isTrue();
                    assertThat(s.begin(a).settled()).as(a + " runs in a transitional state").isFalse();
                } else {
                    assertThatThrownBy(() -> s.begin(a)).isInstanceOfSatisfying(DomusException.class, e -> {
                        assertThat(e.code()).isEqualTo("illegal_transition");
                        assertThat(e.kind()).isEqualTo(DomusException.Kind.CONFLICT);
                    });
                }
            }
        }
    }

    @Test
    void outcomes() {
        assertThat(VpsStatus.RUNNING.begin(ActionType.POWER_OFF)).isEqualTo(VpsStatus.STOPPING);
        assertThat(ActionType.POWER_OFF.onSuccess(VpsStatus.RUNNING)).isEqualTo(VpsStatus.OFF);
        assertThat(ActionType.POWER_ON.onFailure(VpsStatus.OFF)).isEqualTo(VpsStatus.OFF);
        assertThat(ActionType.CREATE.onFailure(VpsStatus.CREATING)).isEqualTo(VpsStatus.ERROR);
        assertThat(ActionType.SNAPSHOT.onSuccess(VpsStatus.OFF)).isEqualTo(VpsStatus.OFF);
        assertThat(ActionType.SNAPSHOT.onSuccess(VpsStatus.RUNNING)).isEqualTo(VpsStatus.RUNNING);
        assertThat(ActionType.RESCUE_MODE.onSuccess(VpsStatus.RUNNING)).isEqualTo(VpsStatus.RESCUE);
        assertThat(ActionType.DELETE.onSuccess(VpsStatus.ERROR)).isEqualTo(VpsStatus.DELETED);
        assertThat(ActionType.fromWire("rescue")).isEqualTo(ActionType.RESCUE_MODE);
        assertThat(ActionType.RESCUE_MODE.wire()).isEqualTo("rescue");
    }

    @Test
    void messagesSayWhatIsAllowed() {
        assertThatThrownBy(() -> VpsStatus.OFF.begin(ActionType.REBOOT))
                .hasMessage("cannot reboot a server that is off; allowed from: running, rescue");
        assertThatThrownBy(() -> VpsStatus.DELETED.begin(ActionType.DELETE))
                .hasMessageStartingWith("cannot delete a server that is deleted");
        assertThatThrownBy(() -> VpsStatus.RUNNING.begin(ActionType.CREATE))
                .hasMessage("cannot create a server that is running");
    }

    @Test
    void idsAreTimeOrdered() {
        java.util.UUID prev = Ids.next();
        for (int i = 0; i < 10_000; i++) {
            java.util.UUID next = Ids.next();
            assertThat(next.version()).isEqualTo(7);
            assertThat(Long.compareUnsigned(next.getMostSignificantBits(), prev.getMostSignificantBits()))
                    .isPositive();
            prev = next;
        }
    }
}
