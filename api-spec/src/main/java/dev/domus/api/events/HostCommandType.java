// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What a host agent is asked to do with one VPS. */
public enum HostCommandType {
    CREATE("vps.create"), DELETE("vps.delete"), POWER_ON("vps.power_on"), POWER_OFF("vps.power_off"),
    SHUTDOWN("vps.shutdown"), REBOOT("vps.reboot"), RESIZE("vps.resize"), REBUILD("vps.rebuild"),
    RESCUE("vps.rescue"), SNAPSHOT("vps.snapshot");

    private final String wire;

    HostCommandType(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static HostCommandType fromWire(String s) {
        for (HostCommandType t : values()) {
            if (t.wire.equals(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown host command type: " + s);
    }
}
