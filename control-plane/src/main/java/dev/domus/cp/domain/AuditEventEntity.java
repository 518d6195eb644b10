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

/** One mutating call: who, what, when, result. */
@Entity
@Table(name = "audit_events")
public class AuditEventEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "organization_id")
    public UUID organizationId;
    @Column(name = "project_id")
    public UUID projectId;
    public String actor;
    @Column(name = "actor_user_id")
    public UUID actorUserId;
    @Column(name = "actor_token_id")
    public UUID actorTokenId;
    public String method;
    public String path;
    @Column(name = "resource_type")
    public String resourceType;
    @Column(name = "resource_id")
    public String resourceId;
    public int status;
    public String code;
    @Column(name = "occurred_at")
    public OffsetDateTime occurredAt;
}
