// SPDX-License-Identifier: Apache-2.0
/**
 * Entities, lifecycle state machines and value objects of the control plane. Nothing here knows about HTTP or
 * Kafka; {@link dev.domus.cp.domain.DomusException} is the one error type, mapped to problem+json by the api layer.
 */
package dev.domus.cp.domain;
