// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

/** Validation helpers shared by the event records. */
final class Events {
    static final int SCHEMA_VERSION = 1;

    private Events() {
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new InvalidEventException(message);
        }
    }

    static <T> T present(T value, String field) {
        if (value == null) {
            throw new InvalidEventException(field + " is required");
        }
        return value;
    }
}
