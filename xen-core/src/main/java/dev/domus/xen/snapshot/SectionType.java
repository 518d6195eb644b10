// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import java.util.Optional;

/**
 * The section kinds of format version 1, with the record version each is written in and the largest length a
 * reader accepts before it allocates anything for the section.
 */
enum SectionType {
    CONFIG(1, 1, 64 * 1024),
    DOMAIN(2, 1, MachineState.MAX_DOMAIN_BYTES),
    CLOCK(3, 1, 8),
    VCPU(4, 1, 4096),
    CLINT(5, 1, 4096),
    PLIC(6, 1, 4096),
    UART(7, 1, 8192),
    RTC(8, 1, 64),
    VIRTIO(9, 1, VirtioSlotState.MAX_DEVICE_BYTES + 4096),
    /** Header, page bitmap and the non-zero pages; bounded by the configured memory, checked separately. */
    RAM(10, 1, Long.MAX_VALUE);

    final int id;
    final int recordVersion;
    final long maxLength;

    SectionType(int id, int recordVersion, long maxLength) {
        this.id = id;
        this.recordVersion = recordVersion;
        this.maxLength = maxLength;
    }

    static Optional<SectionType> byId(int id) {
        for (SectionType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    String label(int instance) {
        return switch (this) {
            case VCPU, UART, VIRTIO -> name().toLowerCase(java.util.Locale.ROOT) + "[" + instance + "]";
            default -> name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
