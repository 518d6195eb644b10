// SPDX-License-Identifier: Apache-2.0
/**
 * Use cases of the agent: supervising one xen-core domain runner per VPS (disks, config drive, tap, power
 * actions, crash-restart, re-attach after an agent restart), applying host commands once with epoch fencing,
 * reconciling against the control plane's desired state and metering usage.
 */
package dev.domus.agent.service;
