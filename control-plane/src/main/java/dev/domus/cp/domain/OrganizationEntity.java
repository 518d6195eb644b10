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

/** A tenant: owns projects and has members; its tier gives default quotas. */
@Entity
@Table(name = "organizations")
public class OrganizationEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    public String name;
    @Column(name = "display_name")
    public String displayName;
    public String tier;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
}
