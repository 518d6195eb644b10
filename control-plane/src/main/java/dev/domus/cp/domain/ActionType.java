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
    CREATE(EnumSet.noneOf(VpsStatus.class), VpsStatus.CREATING, HostCommandType.CREATE) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return RUNNING;
        }

        @Override
        public VpsStatus onFailure(VpsStatus from) {
            return ERROR;
        }
    },
    DELETE(EnumSet.of(RUNNING, OFF, RESCUE, ERROR), DELETING, HostCommandType.DELETE) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return DELETED;
        }

        @Override
        public VpsStatus onFailure(VpsStatus from) {
            return ERROR;
        }
    },
    POWER_ON(EnumSet.of(OFF), STARTING, HostCommandType.POWER_ON) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return RUNNING;
        }
    },
    POWER_OFF(EnumSet.of(RUNNING, RESCUE, ERROR), STOPPING, HostCommandType.POWER_OFF) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return OFF;
        }
    },
    SHUTDOWN(EnumSet.of(RUNNING), STOPPING, HostCommandType.SHUTDOWN) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return OFF;
        }
    },
    REBOOT(EnumSet.of(RUNNING, RESCUE), REBOOTING, HostCommandType.REBOOT) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return RUNNING;
        }
    },
    /** Like the big clouds: resize a stopped server; the disk never shrinks. */
    RESIZE(EnumSet.of(OFF), RESIZING, HostCommandType.RESIZE) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return OFF;
        }
    },
    REBUILD(EnumSet.of(RUNNING, OFF, ERROR), REBUILDING, HostCommandType.REBUILD) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return RUNNING;
        }

        @Override
        public VpsStatus onFailure(VpsStatus from) {
            return ERROR;
        }
    },
    RESCUE_MODE(EnumSet.of(RUNNING, OFF), REBOOTING, HostCommandType.RESCUE) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return RESCUE;
        }

        @Override
        public String wire() {
            return "rescue";
        }
    },
    SNAPSHOT(EnumSet.of(RUNNING, OFF), SNAPSHOTTING, HostCommandType.SNAPSHOT) {
        @Override
        public VpsStatus onSuccess(VpsStatus from) {
            return from;
        }
    };

    private final Set<VpsStatus> allowedFrom;
    private final VpsStatus during;
    private final HostCommandType command;

    ActionType(Set<VpsStatus> allowedFrom, VpsStatus during, HostCommandType command) {
        this.allowedFrom = allowedFrom;
        this.during = during;
        this.command = command;
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
    public abstract VpsStatus onSuccess(VpsStatus from);

    /** Where the server ends when the host reports failure: by default back where it started. */
    public VpsStatus onFailure(VpsStatus from) {
        return from;
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
