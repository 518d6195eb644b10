// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Interface-name validation: bad names are refused before any syscall or {@code ip} command runs. */
class LinkNamesTest {

    @Test
    void acceptsLinuxInterfaceNames() {
        for (String ok : new String[] {"t", "tap0", "vif1.0", "dom-u_7", "abcdefghijklmno"}) {
            assertThat(LinkNames.check("name", ok)).isEqualTo(ok);
        }
    }

    @Test
    void tapOpenRefusesBadNamesWithIllegalArgument() {
        assertThatThrownBy(() -> TapBackend.open("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tap interface name must be 1..15 characters");
        assertThatThrownBy(() -> TapBackend.open("abcdefghijklmnop")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("16 characters");
        assertThatThrownBy(() -> TapBackend.open("tap 0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad character at index 3");
        assertThatThrownBy(() -> TapBackend.open("a/b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TapBackend.open("tap%d")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TapBackend.open("..")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not be");
        assertThatThrownBy(() -> TapBackend.open(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got null");
        assertThatThrownBy(() -> TapBackend.open("t\u00e4p")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\\u00e4");
    }

    @Test
    void hostLinksRefusesBadNamesAndMtus() {
        assertThatThrownBy(() -> HostLinks.attachToBridge("tap0", "br 0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("bridge name");
        assertThatThrownBy(() -> HostLinks.attachToBridge("-", "br0;reboot"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HostLinks.setMtu("tap0", 67)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("mtu must be 68..65535, got 67");
        assertThatThrownBy(() -> HostLinks.linkExists("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HostLinks.setMac("tap0", "01:00:5e:00:00:01"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unicast");
        assertThatThrownBy(() -> HostLinks.setMac("tap0", "fe:ff:ff:ff:ff")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mac must look like");
    }
}
