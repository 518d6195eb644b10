// SPDX-License-Identifier: Apache-2.0
/**
 * The platform's backing services as real local processes: embedded PostgreSQL, a single-node KRaft Kafka broker
 * and Keycloak, each bound to 127.0.0.1 with its data and logs under a state directory. Tests use them through
 * {@code dev.domus.stack.quarkus}; {@link dev.domus.stack.StackMain} runs all three for {@code deploy/stack}.
 */
package dev.domus.stack;
