// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One virtio-net interface of a machine, backed by a host tap device.
 *
 * @param mac    guest MAC address {@code xx:xx:xx:xx:xx:xx} (unicast)
 * @param ifname host tap interface name (1..15 characters, as Linux allows)
 * @param bridge host bridge to attach the tap to, if any
 */
public record NicConfig(String mac, String ifname, Optional<String> bridge) {
    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");

    public NicConfig {
        mac = mac == null ? "" : mac.toLowerCase(java.util.Locale.ROOT);
        if (!MAC.matcher(mac).matches()) {
            throw new IllegalArgumentException("mac must look like 52:54:00:12:34:56, got '" + mac + "'");
        }
        if ((Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0) {
            throw new IllegalArgumentException("mac " + mac + " is a multicast address");
        }
        if (ifname == null || !IFNAME.matcher(ifname).matches()) {
            throw new IllegalArgumentException("vifname must be 1..15 of [A-Za-z0-9_.-], got '" + ifname + "'");
        }
        bridge = bridge == null ? Optional.empty() : bridge;
        bridge.ifPresent(b -> {
            if (!IFNAME.matcher(b).matches()) {
                throw new IllegalArgumentException("bridge must be 1..15 of [A-Za-z0-9_.-], got '" + b + "'");
            }
        });
    }

    /** The MAC as six bytes. */
    public byte[] macBytes() {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) Integer.parseInt(mac.substring(i * 3, i * 3 + 2), 16);
        }
        return b;
    }
}
