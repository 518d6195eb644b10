// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.util.Optional;

/**
 * The one exception type of the domain layer. {@link #code()} is a stable machine-readable identifier (the same
 * strings travel as {@code error.code} in the control protocol); the message is one line meant for humans.
 */
public class DomainException extends RuntimeException {
    /** The configuration file is invalid or names files that cannot be used. */
    public static final String CONFIG = "config";
    /** A domain with that name is already running. */
    public static final String EXISTS = "exists";
    /** No domain with that name is running. */
    public static final String NOT_FOUND = "not_found";
    /** The command is not allowed in the domain's current state. */
    public static final String BAD_STATE = "bad_state";
    /** A request could not be parsed. */
    public static final String BAD_REQUEST = "bad_request";
    /** The command name is unknown. */
    public static final String UNKNOWN_COMMAND = "unknown_command";
    /** A command argument is missing, unknown or out of range. */
    public static final String BAD_ARGUMENT = "bad_argument";
    /** The domain runner could not be started or did not become ready. */
    public static final String LAUNCH = "launch";
    /** Talking to the domain runner failed (connection lost, bad reply). */
    public static final String IO = "io";
    /** A snapshot file is invalid, incomplete, of another version or does not fit its configuration. */
    public static final String SNAPSHOT = "snapshot";
    /** Anything unexpected on the runner side. */
    public static final String INTERNAL = "internal";

    private final String code;
    private final String domain;

    public DomainException(String code, String message) {
        this(code, null, message, null);
    }

    public DomainException(String code, String domain, String message) {
        this(code, domain, message, null);
    }

    public DomainException(String code, String domain, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.domain = domain;
    }

    /** Stable error code, one of the constants of this class. */
    public String code() {
        return code;
    }

    /** The domain the error is about, when known. */
    public Optional<String> domain() {
        return Optional.ofNullable(domain);
    }
}
