// SPDX-License-Identifier: Apache-2.0
/**
 * REST resources implementing the interfaces generated from {@code api-spec/billing-openapi.yaml}: tenant reads
 * (usage, balance, invoices as JSON/PDF/CSV, alert threshold, promo redemption) and operator calls (prices,
 * adjustments, promo codes, re-run and close of a period). No logic here; errors become problem+json.
 */
package dev.domus.billing.api;
