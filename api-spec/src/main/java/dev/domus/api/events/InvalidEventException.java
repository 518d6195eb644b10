// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

/** An event that does not satisfy its schema; consumers log and skip it (it will never become valid). */
public final class InvalidEventException extends IllegalArgumentException {
    public InvalidEventException(String message) {
        super(message);
    }

    public InvalidEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
