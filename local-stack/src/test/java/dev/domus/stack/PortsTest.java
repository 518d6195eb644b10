// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PortsTest {

    @Test
    void zeroPicksAFreePort() {
        int p = Ports.claim("svc", 0);
        assertThat(p).isBetween(1, 65535);
        assertThat(Ports.isFree(p)).isTrue();
    }

    @Test
    void takenPortIsRejected() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThatThrownBy(() -> Ports.claim("kafka", s.getLocalPort()))
                    .isInstanceOf(StackException.class)
                    .hasMessage("kafka: port " + s.getLocalPort() + " on 127.0.0.1 is already in use");
        }
    }

    @Test
    void optionsValidatePort() {
        assertThatThrownBy(() -> StackOptions.temporary("x").withPort(70000))
                .hasMessage("port must be 0..65535 (0 = free port), got 70000");
    }
}
