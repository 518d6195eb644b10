// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A server: desired state, placement and lifecycle status. */
@Entity
@Table(name = "vps")
public class VpsEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "project_id")
    public UUID projectId;
    public String name;
    public String status;
    @Column(name = "plan_id")
    public UUID planId;
    @Column(name = "image_id")
    public UUID imageId;
    public String region;
    @Column(name = "host_id")
    public UUID hostId;
    public int vcpus;
    @Column(name = "memory_mb")
    public int memoryMb;
    @Column(name = "disk_gb")
    public int diskGb;
    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, String> labels;
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "ssh_key_ids")
    public List<UUID> sshKeyIds;
    @Column(name = "user_data")
    public String userData;
    public long epoch;
    /** Address with prefix from the host's IP pool, e.g. {@code 10.77.0.11/24}; null = the host has no pool. */
    public String ipv4;
    @Column(name = "current_action_id")
    public UUID currentActionId;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
    @Column(name = "updated_at")
    public OffsetDateTime updatedAt;

    public VpsStatus lifecycle() {
        return VpsStatus.fromWire(status);
    }
}
