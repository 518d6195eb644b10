// SPDX-License-Identifier: Apache-2.0
/**
 * Kafka event records shared by every module: host commands, host events and usage. Each record mirrors one JSON
 * Schema in {@code api-spec/events/} and is validated on construction; {@link dev.domus.api.events.EventCodec}
 * reads and writes the wire form.
 */
package dev.domus.api.events;
