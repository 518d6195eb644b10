// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.util.Locale;

/**
 * Lifecycle states of a server. Settled states accept actions (see {@link ActionType#allowedFrom}); transitional
 * states belong to exactly one running action and end with {@link ActionType#onSuccess}/{@link ActionType#onFailure}.
 */
public enum VpsStatus {
    CREATING(false), STARTING(false), RUNNING(true), STOPPING(false), OFF(true), REBOOTING(false),
    RESIZING(false), REBUILDING(false), RESCUE(true), SNAPSHOTTING(false), ERROR(true), DELETING(false),
    DELETED(false);

    private final boolean settled;

    VpsStatus(boolean settled) {
        this.settled = settled;
    }

    /** True when no action owns the server in this state. */
    public boolean settled() {
        return settled;
    }

    /**
     * The state while {@code action} runs, or a {@code illegal_transition} conflict saying what is allowed.
     */
    public VpsStatus begin(ActionType action) {
        if (!action.allowedFrom().contains(this)) {
            throw DomusException.conflict("illegal_transition", "cannot " + action.wire() + " a server that is "
                    + wire() + (action.allowedFrom().isEmpty() ? "" : "; allowed from: " + action.allowedFromWire()));
        }
        return action.during();
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static VpsStatus fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
