// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Metered quantities. */
public enum UsageMetric {
    VPS_MINUTES("vps_minutes"), TRANSFER_BYTES("transfer_bytes"), SNAPSHOT_GB_HOURS("snapshot_gb_hours");

    private final String wire;

    UsageMetric(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static UsageMetric fromWire(String s) {
        for (UsageMetric m : values()) {
            if (m.wire.equals(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown usage metric: " + s);
    }
}
