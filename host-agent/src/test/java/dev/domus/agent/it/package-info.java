// SPDX-License-Identifier: Apache-2.0
/**
 * Integration tests of the agent as a real process: a real Kafka broker, real xen-core domain runners booting the
 * Domus guest image, a bridge and taps the test owns, SSH into the guests with key authentication.
 */
package dev.domus.agent.it;
