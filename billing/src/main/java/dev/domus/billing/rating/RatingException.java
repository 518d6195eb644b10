// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

/** Input the engine cannot rate (missing price, currency mismatch, bad period); the message says which. */
public final class RatingException extends IllegalArgumentException {
    public RatingException(String message) {
        super(message);
    }
}
