// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.util.Locale;

/** Scheduling state of a host; only {@code UP} hosts receive new servers. */
public enum HostState {
    UP, CORDONED, DRAINING, DOWN, STANDBY;

    public boolean schedulable() {
        return this == UP;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static HostState fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
