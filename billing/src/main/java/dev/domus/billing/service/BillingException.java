// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import java.util.Objects;

/** The billing service's one exception type: a code the API maps to a status, and a message saying what is wrong. */
public final class BillingException extends RuntimeException {
    /** Error codes; each maps to one HTTP status. */
    public enum Code {
        NOT_FOUND(404), INVALID(400), UNAUTHENTICATED(401), FORBIDDEN(403), CONFLICT(409), PERIOD_CLOSED(409),
        CANNOT_RATE(422), UNAVAILABLE(503);

        private final int status;

        Code(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Code code;

    public BillingException(Code code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code);
    }

    public BillingException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code);
    }

    public Code code() {
        return code;
    }
}
