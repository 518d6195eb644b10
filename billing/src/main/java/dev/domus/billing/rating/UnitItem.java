// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.rating;

import java.util.Optional;

/** Items priced per unit rather than per plan hour. */
public enum UnitItem {
    /** Transfer above the pooled allowance, per GB (10^9 bytes). */
    TRANSFER_GB("transfer_gb"),
    /** Snapshot storage per GB-month (730 GB-hours). */
    SNAPSHOT_GB_MONTH("snapshot_gb_month"),
    /** Volume storage per GB-month (730 GB-hours). */
    VOLUME_GB_MONTH("volume_gb_month");

    private final String wire;

    UnitItem(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static Optional<UnitItem> fromWire(String s) {
        for (UnitItem i : values()) {
            if (i.wire.equals(s)) {
                return Optional.of(i);
            }
        }
        return Optional.empty();
    }
}
