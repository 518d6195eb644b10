// SPDX-License-Identifier: Apache-2.0
/**
 * The rating engine: pure Java, no framework. Turns one organization's stored usage, VPS lifecycle and adjustments
 * for one UTC calendar month into invoice lines in integer minor units, deterministically (same input, same lines).
 * The rules are stated in {@code billing/README.md}; {@link dev.domus.billing.rating.RatingEngine} is the only entry.
 */
package dev.domus.billing.rating;
