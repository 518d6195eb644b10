// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.util.Locale;
import java.util.Optional;

/** What the domain runner does when the guest powers off, reboots or crashes ({@code on_poweroff} etc.). */
public enum LifecycleAction {
    /** The domain ends and its runner process exits. */
    DESTROY,
    /** A fresh machine is built from the same configuration and started. */
    RESTART,
    /** The stopped machine is kept (state {@code shutdown} or {@code crashed}) until {@code xl destroy}. */
    PRESERVE;

    /** The spelling used in configuration files and the control protocol. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a configuration value; empty when it is not one of the supported actions. */
    public static Optional<LifecycleAction> fromConfigName(String value) {
        for (LifecycleAction a : values()) {
            if (a.configName().equals(value)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
