// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

/** A migration that failed or was refused; the message says in which phase and why. */
public final class MigrationException extends RuntimeException {
    public MigrationException(String message) {
        super(message);
    }

    public MigrationException(String message, Throwable cause) {
        super(message, cause);
    }
}
