// SPDX-License-Identifier: Apache-2.0
/**
 * Adapters: the JSON state store under the state directory, Kafka (host commands in; host events and usage out),
 * the control-plane client with Keycloak client-credentials tokens, and external tools (cp, resize2fs, ip).
 */
package dev.domus.agent.infra;
