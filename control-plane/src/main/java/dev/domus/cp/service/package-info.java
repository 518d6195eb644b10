// SPDX-License-Identifier: Apache-2.0
/**
 * Use cases of the control plane: each public method is one transaction that checks who may do it (scope, tenant
 * role), changes entities, reserves quotas and capacity, and writes outbox rows. No HTTP types live here.
 */
package dev.domus.cp.service;
