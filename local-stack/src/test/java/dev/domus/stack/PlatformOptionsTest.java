// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PlatformOptionsTest {

    private static PlatformOptions options(int hosts, String prefix, String subnet) {
        return new PlatformOptions(Path.of("state"), hosts, prefix, subnet, Path.of("cp.jar"), Path.of("agent.jar"),
                Path.of("guest"), Path.of("/run/domus/x"), 0, Duration.ofMinutes(1));
    }

    @Test
    void addressesFollowTheSubnet() {
        PlatformOptions o = options(2, "domus", "10.200");
        assertThat(o.managementAddress()).isEqualTo("10.200.0.1");
        assertThat(o.hostAddress(2)).isEqualTo("10.200.0.12");
        assertThat(o.vpsNet(2)).isEqualTo("10.200.2.0/24");
        assertThat(o.vpsGateway(1)).isEqualTo("10.200.1.1/24");
        assertThat(o.stateDir()).isAbsolute();
        assertThat(Netns.namespace("domus", 1)).isEqualTo("domus-h1");
        assertThat(Netns.vethRoot("domus", 8)).isEqualTo("domus-h8m").hasSizeLessThanOrEqualTo(15);
        assertThat(Netns.bridge("e2eabcde")).hasSizeLessThanOrEqualTo(15);
    }

    @Test
    void badValuesAreClearErrors() {
        assertThatThrownBy(() -> options(0, "domus", "10.200")).hasMessage("hosts must be 1..8, got 0");
        assertThatThrownBy(() -> options(9, "domus", "10.200")).hasMessage("hosts must be 1..8, got 9");
        assertThatThrownBy(() -> options(1, "Domus-1", "10.200"))
                .hasMessage("prefix must be 1..8 characters [a-z0-9], got Domus-1");
        assertThatThrownBy(() -> options(1, "domus", "192.168"))
                .hasMessageStartingWith("subnet must be the first two octets of a 10.x.0.0/16");
        assertThatThrownBy(() -> options(1, "domus", "10.256")).hasMessageContaining("got 10.256");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), 0, Duration.ofSeconds(1), "localhost"))
                .hasMessage("host must be an IPv4 address such as 127.0.0.1, got localhost");
        assertThat(new StackOptions(Path.of("s"), 0, Duration.ofSeconds(1)).host()).isEqualTo("127.0.0.1");
    }

    @Test
    void launcherRejectsBadUsageWithExitCode2() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(PlatformMain.main(new String[] {"--hosts", "2"}, System.out)).isEqualTo(2);
            assertThat(PlatformMain.main(new String[] {"--state-dir", "s", "--control-plane-jar", "a",
                "--agent-jar", "b", "--guest-dir", "g", "--hosts", "x"}, System.out)).isEqualTo(2);
            assertThat(PlatformMain.main(new String[] {"--bogus", "1"}, System.out)).isEqualTo(2);
        } finally {
            System.setErr(old);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("domus-platform: --state-dir is required")
                .contains("domus-platform: --hosts must be a number, got x")
                .contains("domus-platform: unknown option: --bogus");
    }
}
