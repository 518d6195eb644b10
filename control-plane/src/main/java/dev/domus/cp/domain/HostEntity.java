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

/** A hypervisor host (dom0) with its capacity and what is allocated on it. */
@Entity
@Table(name = "hosts")
public class HostEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    public String name;
    public String region;
    public String state;
    @Column(name = "cap_vcpus")
    public int capVcpus;
    @Column(name = "cap_memory_mb")
    public long capMemoryMb;
    @Column(name = "cap_disk_gb")
    public long capDiskGb;
    @Column(name = "alloc_vcpus")
    public int allocVcpus;
    @Column(name = "alloc_memory_mb")
    public long allocMemoryMb;
    @Column(name = "alloc_disk_gb")
    public long allocDiskGb;
    @Column(name = "vps_count")
    public int vpsCount;
    @Column(name = "agent_version")
    public String agentVersion;
    @Column(name = "last_heartbeat_at")
    public OffsetDateTime lastHeartbeatAt;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
    /** The latest host.heartbeat utilization in the wire form of the API's HostUtilization; null before one came. */
    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, Object> utilization;
    /** Gateway with prefix of the host's VPS network (IP pool); null = the host has no pool. */
    @Column(name = "vps_gateway")
    public String vpsGateway;
    @Column(name = "pool_first")
    public Integer poolFirst;
    @Column(name = "pool_last")
    public Integer poolLast;
}
