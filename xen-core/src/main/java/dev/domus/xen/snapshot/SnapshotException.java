// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

/** A snapshot file that cannot be written, or that is not a valid, complete, compatible snapshot. */
public final class SnapshotException extends RuntimeException {
    public SnapshotException(String message) {
        super(message);
    }

    public SnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
