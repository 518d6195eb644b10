// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.support;

/**
 * Documentation anchor: every {@code @QuarkusTest} of this module declares the same GLOBAL test resources
 * (PostgreSQL, Kafka, Keycloak) so that one Quarkus boot serves the whole run.
 */
public final class StackResources {
    /** Topics created up front by the Kafka test resource. */
    public static final String TOPICS = "domus.host-commands:1,domus.host-events:1,domus.usage:1";

    private StackResources() {
    }
}
