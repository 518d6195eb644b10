// SPDX-License-Identifier: Apache-2.0
/**
 * The platform's backing services as real local processes: embedded PostgreSQL, a single-node KRaft Kafka broker
 * and Keycloak, each bound to 127.0.0.1 (or a given management address) with its data and logs under a state
 * directory. Tests use them through {@code dev.domus.stack.quarkus}; {@link dev.domus.stack.StackMain} runs all
 * three for {@code deploy/stack}, and {@link dev.domus.stack.Platform} adds the control plane and host agents in
 * network namespaces for {@code deploy/up} and the e2e tests.
 */
package dev.domus.stack;
