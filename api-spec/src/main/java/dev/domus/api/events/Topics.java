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
    /** Usage documents billing could not accept, with the reason in header {@code domus.dlq.reason}; key kept. */
    public static final String USAGE_DLQ = "domus.usage.dlq";
    /** VPS created / resized / deleted with plan and time, for billing; key = organization id. */
    public static final String VPS_LIFECYCLE = "domus.vps-lifecycle";
    /** A billing alert threshold was crossed; key = organization id. */
    public static final String BILLING_ALERTS = "domus.billing-alerts";

    private Topics() {
    }
}
