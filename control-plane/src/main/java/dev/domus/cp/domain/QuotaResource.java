// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.util.Locale;

/** Quota-limited resources of a project. Reservations lock quota rows in this order (no deadlocks). */
public enum QuotaResource {
    VPS, VCPUS, MEMORY_MB, DISK_GB, FLOATING_IPS, SNAPSHOTS;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static QuotaResource fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
