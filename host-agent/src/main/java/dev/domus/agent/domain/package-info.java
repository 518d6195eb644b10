// SPDX-License-Identifier: Apache-2.0
/**
 * Value objects of the agent: the persisted record of a VPS on this host, its observed phase, the crash-restart
 * policy (pure logic) and the agent's one exception type.
 */
package dev.domus.agent.domain;
