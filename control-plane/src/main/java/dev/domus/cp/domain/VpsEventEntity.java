// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.UUID;

/** One thing a host reported about a server (state change, crash, restart); ids are time-ordered. */
@Entity
@Table(name = "vps_events")
public class VpsEventEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "vps_id")
    public UUID vpsId;
    @Column(name = "host_id")
    public UUID hostId;
    public String type;
    public String state;
    public String code;
    public String message;
    @Column(name = "occurred_at")
    public OffsetDateTime occurredAt;

    /** The event type for a host's {@code vps.state} error code (absent = a plain state change). */
    public static String typeFor(String errorCode) {
        return switch (errorCode == null ? "" : errorCode) {
            case "domain_crashed" -> "crashed";
            case "domain_restarted" -> "restarted";
            case "crash_loop" -> "crash_loop";
            default -> "state_changed";
        };
    }
}
