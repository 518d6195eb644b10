// SPDX-License-Identifier: Apache-2.0
/**
 * Kafka and rendering: the usage consumer (a plain KafkaConsumer in one managed thread that commits offsets only
 * after the database transaction holding the events), the dead-letter producer, the billing-alert relay, and the
 * PDF/CSV invoice renderers.
 */
package dev.domus.billing.infra;
