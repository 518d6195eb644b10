// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

/**
 * A service could not be started, checked or stopped. The message is one line meant for a person
 * ("kafka: port 9092 on 127.0.0.1 is already in use"); {@link #detail()} carries the log tail if any.
 */
public final class StackException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong, for callers that react differently (a port clash is the user's to fix). */
    public enum Code { PORT_IN_USE, NOT_INSTALLED, START_FAILED, TIMEOUT, OPERATION_FAILED }

    private final String service;
    private final Code code;
    private final String detail;

    StackException(String service, Code code, String message, String detail, Throwable cause) {
        super(service + ": " + message + (detail.isEmpty() ? "" : "\n" + detail), cause);
        this.service = service;
        this.code = code;
        this.detail = detail;
    }

    StackException(String service, Code code, String message) {
        this(service, code, message, "", null);
    }

    public String service() {
        return service;
    }

    public Code code() {
        return code;
    }

    /** The process's log tail (possibly empty). */
    public String detail() {
        return detail;
    }

    /** The first line of the message: what a script prints. */
    public String oneLine() {
        String m = getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
