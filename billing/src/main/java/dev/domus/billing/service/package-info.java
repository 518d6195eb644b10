// SPDX-License-Identifier: Apache-2.0
/**
 * Billing use cases over PostgreSQL (plain JDBC): ingesting event batches exactly once, loading rating input,
 * draft and finalized invoices, period close, price changes, adjustments and promo codes, alert thresholds.
 * No HTTP types here; the API layer maps {@link dev.domus.billing.service.BillingException} to problem+json.
 */
package dev.domus.billing.service;
