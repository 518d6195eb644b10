// SPDX-License-Identifier: Apache-2.0
package dev.domus.api.events;

/** Kafka topic names and their keys. */
public final class Topics {
    /** Control plane to host agents; key = host id. */
    public static final String HOST_COMMANDS = "domus.host-commands";
    /** Host agents to control plane; key = host id. */
    public static final String HOST_EVENTS = "domus.host-events";
    /** Metered usage; key = organization id. */
    public static final String USAGE = "domus.usage";

    private Topics() {
    }
}
