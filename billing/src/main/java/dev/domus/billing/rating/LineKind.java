// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.util.Optional;

/** What an invoice line charges or credits, in the order lines appear on an invoice. */
public enum LineKind {
    VPS_HOURS("vps_hours"), VPS_CAP("vps_cap"), TRANSFER("transfer"), SNAPSHOT("snapshot"), VOLUME("volume"),
    CREDIT("credit"), PROMO("promo"), ADJUSTMENT("adjustment");

    private final String wire;

    LineKind(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    /** True for credits, promo codes and manual adjustments: lines that are not rated from usage. */
    public boolean isAdjustment() {
        return this == CREDIT || this == PROMO || this == ADJUSTMENT;
    }

    public static Optional<LineKind> fromWire(String s) {
        for (LineKind k : values()) {
            if (k.wire.equals(s)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
