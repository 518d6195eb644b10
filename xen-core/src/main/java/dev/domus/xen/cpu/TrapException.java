// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

/**
 * A synchronous exception raised while executing one instruction. One preallocated instance per hart, without a
 * stack trace, so raising it costs no allocation; the interpreter catches it at the instruction boundary and hands
 * it to {@link Hart#takeTrap(long, long)}.
 */
final class TrapException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    long cause;
    long tval;

    TrapException() {
        super(null, null, false, false);
    }

    TrapException set(long cause, long tval) {
        this.cause = cause;
        this.tval = tval;
        return this;
    }
}
