// SPDX-License-Identifier: Apache-2.0
/**
 * Adapters to the outside: the personal-access-token authentication mechanism next to Keycloak OIDC, the outbox
 * relay to Kafka and the consumer of host events.
 */
package dev.domus.cp.infra;
