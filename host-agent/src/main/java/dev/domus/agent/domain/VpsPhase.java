// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.domain;

/** Observed state of a VPS on this host; {@link #wire()} is the {@code vps_state} of host events. */
public enum VpsPhase {
    /** Disks being prepared or the runner starting. */
    PROVISIONING("off"),
    RUNNING("running"),
    OFF("off"),
    /** Waiting for a backoff before a crash restart. */
    RESTARTING("off"),
    /** Gave up (crash loop or a failure that needs an operator); the reason is kept. */
    ERROR("error"),
    DELETED("deleted");

    private final String wire;

    VpsPhase(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }
}
