// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

/** A migration that failed or was refused; the message says in which phase and why. */
public final class MigrationException extends RuntimeException {
    private final boolean inDoubt;

    public MigrationException(String message) {
        this(message, null, false);
    }

    public MigrationException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public MigrationException(String message, Throwable cause, boolean inDoubt) {
        super(message, cause);
        this.inDoubt = inDoubt;
    }

    /**
     * True when the source sent COMMIT but never learnt whether the target read it: the target may run the guest,
     * so the source keeps its copy paused instead of resuming it (see {@link Handover}).
     */
    public boolean inDoubt() {
        return inDoubt;
    }
}
