// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What a host agent reports. */
public enum HostEventType {
    ACTION_PROGRESS("action.progress"), ACTION_SUCCEEDED("action.succeeded"), ACTION_FAILED("action.failed"),
    VPS_STATE("vps.state"), HOST_HEARTBEAT("host.heartbeat");

    private final String wire;

    HostEventType(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /** True for the three action.* types, which must name a VPS and an action. */
    public boolean isActionEvent() {
        return this == ACTION_PROGRESS || this == ACTION_SUCCEEDED || this == ACTION_FAILED;
    }

    @JsonCreator
    public static HostEventType fromWire(String s) {
        for (HostEventType t : values()) {
            if (t.wire.equals(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown host event type: " + s);
    }
}
