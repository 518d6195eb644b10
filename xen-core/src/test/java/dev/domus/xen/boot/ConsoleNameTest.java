// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConsoleNameTest {
    @Test
    void theLastConsoleWordWinsLikeInLinux() {
        assertThat(VirtMachine.consoleName("")).isEqualTo("ttyS0");
        assertThat(VirtMachine.consoleName("root=/dev/vda console=hvc1")).isEqualTo("hvc1");
        assertThat(VirtMachine.consoleName("console=hvc0 console=ttyS0,115200n8")).isEqualTo("ttyS0");
        assertThat(VirtMachine.consoleName("earlycon=sbi console=hvc0")).isEqualTo("hvc0");
    }
}
