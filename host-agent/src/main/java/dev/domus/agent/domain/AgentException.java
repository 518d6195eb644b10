// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.domain;

/** The agent's one exception type; {@link #code()} is stable and travels as {@code error_code} in host events. */
public class AgentException extends RuntimeException {
    public static final String BAD_RECORD = "bad_request";
    public static final String NOT_FOUND = "not_found";
    public static final String IMAGE = "image_not_found";
    public static final String DISK = "disk_failed";
    public static final String NETWORK = "network_failed";
    public static final String LAUNCH = "launch_failed";
    public static final String BAD_STATE = "bad_state";
    public static final String POOL = "pool_exhausted";
    public static final String CONTROL_PLANE = "control_plane";

    private final String code;

    public AgentException(String code, String message) {
        this(code, message, null);
    }

    public AgentException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
