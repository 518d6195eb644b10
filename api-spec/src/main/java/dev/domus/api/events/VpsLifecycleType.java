// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What happened to a VPS, as far as billing cares (schema {@code events/vps-lifecycle.schema.json}). */
public enum VpsLifecycleType {
    CREATED("vps.created"), RESIZED("vps.resized"), DELETED("vps.deleted");

    private final String wire;

    VpsLifecycleType(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static VpsLifecycleType fromWire(String s) {
        for (VpsLifecycleType t : values()) {
            if (t.wire.equals(s)) {
                return t;
            }
        }
        throw new InvalidEventException("unknown vps lifecycle type: " + s);
    }
}
