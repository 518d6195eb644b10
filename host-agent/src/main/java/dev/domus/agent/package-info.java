// SPDX-License-Identifier: Apache-2.0
/**
 * The Domus host agent: one per host (dom0), it turns host commands and the control plane's desired state into
 * running xen-core domains, restarts crashed ones per policy and reports state, crashes and usage over Kafka.
 */
package dev.domus.agent;
