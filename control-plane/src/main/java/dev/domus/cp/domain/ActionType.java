// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import static dev.domus.cp.domain.VpsStatus.DELETED;
import static dev.domus.cp.domain.VpsStatus.DELETING;
import static dev.domus.cp.domain.VpsStatus.ERROR;
import static dev.domus.cp.domain.VpsStatus.OFF;
import static dev.domus.cp.domain.VpsStatus.REBOOTING;
import static dev.domus.cp.domain.VpsStatus.REBUILDING;
import static dev.domus.cp.domain.VpsStatus.RESCUE;
import static dev.domus.cp.domain.VpsStatus.RESIZING;
import static dev.domus.cp.domain.VpsStatus.RUNNING;
import static dev.domus.cp.domain.VpsStatus.SNAPSHOTTING;
import static dev.domus.cp.domain.VpsStatus.STARTING;
import static dev.domus.cp.domain.VpsStatus.STOPPING;

import dev.domus.api.events.HostCommandType;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Server actions as a state machine: from which settled states each may start, the transitional state while it
 * runs, and where the server ends on success or failure ({@code from} = the state it started in).
 */
public enum ActionType {
    CREATE(EnumSet.noneOf(VpsStatus.class), VpsStatus.CREATING, HostCommandType.CREATE, RUNNING, ERROR),
    DELETE(EnumSet.of(RUNNING, OFF, RESCUE, ERROR), DELETING, HostCommandType.DELETE, DELETED, ERROR),
    POWER_ON(EnumSet.of(OFF), STARTING, HostCommandType.POWER_ON, RUNNING, null),
    POWER_OFF(EnumSet.of(RUNNING, RESCUE, ERROR), STOPPING, HostCommandType.POWER_OFF, OFF, null),
    SHUTDOWN(EnumSet.of(RUNNING), STOPPING, HostCommandType.SHUTDOWN, OFF, null),
    REBOOT(EnumSet.of(RUNNING, RESCUE), REBOOTING, HostCommandType.REBOOT, RUNNING, null),
    /** Like the big clouds: resize a stopped server; the disk never shrinks. */
    RESIZE(EnumSet.of(OFF), RESIZING, HostCommandType.RESIZE, OFF, null),
    REBUILD(EnumSet.of(RUNNING, OFF, ERROR), REBUILDING, HostCommandType.REBUILD, RUNNING, ERROR),
    RESCUE_MODE(EnumSet.of(RUNNING, OFF), REBOOTING, HostCommandType.RESCUE, RESCUE, null) {
        @Override
        public String wire() {
            return "rescue";
        }
    },
    /** A snapshot leaves the server as it was. */
    SNAPSHOT(EnumSet.of(RUNNING, OFF), SNAPSHOTTING, HostCommandType.SNAPSHOT, null, null);

    private final Set<VpsStatus> allowedFrom;
    private final VpsStatus during;
    private final HostCommandType command;
    /** Where success leads; null = back to the state it started in. */
    private final VpsStatus success;
    /** Where failure leads; null = back to the state it started in. */
    private final VpsStatus failure;

    ActionType(Set<VpsStatus> allowedFrom, VpsStatus during, HostCommandType command, VpsStatus success,
            VpsStatus failure) {
        this.allowedFrom = allowedFrom;
        this.during = during;
        this.command = command;
        this.success = success;
        this.failure = failure;
    }

    public Set<VpsStatus> allowedFrom() {
        return allowedFrom;
    }

    public VpsStatus during() {
        return during;
    }

    public HostCommandType command() {
        return command;
    }

    /** Where the server ends when the host reports success. */
    public VpsStatus onSuccess(VpsStatus from) {
        return success == null ? from : success;
    }

    /** Where the server ends when the host reports failure: by default back where it started. */
    public VpsStatus onFailure(VpsStatus from) {
        return failure == null ? from : failure;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    String allowedFromWire() {
        return allowedFrom.stream().map(VpsStatus::wire).collect(Collectors.joining(", "));
    }

    public static ActionType fromWire(String s) {
        for (ActionType t : values()) {
            if (t.wire().equals(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown action type " + s);
    }
}
