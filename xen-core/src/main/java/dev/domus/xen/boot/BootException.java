// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

/** A machine cannot be assembled or booted: bad kernel, ramdisk too large, memory too small. One clear message. */
public final class BootException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BootException(String message) {
        super(message);
    }

    public BootException(String message, Throwable cause) {
        super(message, cause);
    }
}
