// SPDX-License-Identifier: Apache-2.0
/**
 * The agent's local HTTP API on loopback (list VPSes, create, power actions, delete) used by operators, tests and
 * {@code deploy/up}; resources only translate to the service layer.
 */
package dev.domus.agent.api;
