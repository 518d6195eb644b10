// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.util.Optional;

/** The state of a domain as reported by {@code xl list} and the control protocol. */
public enum DomainState {
    /** The guest is executing. */
    RUNNING("running", "r-----"),
    /** The vCPUs are stopped by {@code pause} (or the domain was created paused). */
    PAUSED("paused", "--p---"),
    /** The guest powered off or rebooted and the policy is {@code preserve}. */
    SHUTDOWN("shutdown", "---s--"),
    /** The guest crashed and {@code on_crash} is {@code preserve}. */
    CRASHED("crashed", "----c-"),
    /** The domain is being destroyed; its runner is about to exit. */
    DYING("dying", "-----d");

    private final String wireName;
    private final String xlFlags;

    DomainState(String wireName, String xlFlags) {
        this.wireName = wireName;
        this.xlFlags = xlFlags;
    }

    /** The spelling in the control protocol. */
    public String wireName() {
        return wireName;
    }

    /** The six-character state column of {@code xl list} (r b p s c d). */
    public String xlFlags() {
        return xlFlags;
    }

    /** True while the machine exists and can execute (running or paused). */
    public boolean isAlive() {
        return this == RUNNING || this == PAUSED;
    }

    public static Optional<DomainState> fromWireName(String s) {
        for (DomainState st : values()) {
            if (st.wireName.equals(s)) {
                return Optional.of(st);
            }
        }
        return Optional.empty();
    }
}
