// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

/** Tenant roles, strongest first; each includes the powers of those below it. */
public enum Role {
    OWNER, ADMIN, MEMBER, VIEWER;

    /** True when this role has at least the powers of {@code other}. */
    public boolean atLeast(Role other) {
        return ordinal() <= other.ordinal();
    }

    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Role fromWire(String s) {
        return valueOf(s.toUpperCase(java.util.Locale.ROOT));
    }
}
