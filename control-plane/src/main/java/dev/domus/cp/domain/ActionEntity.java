// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A long-running operation on a resource, with progress and outcome. */
@Entity
@Table(name = "actions")
public class ActionEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "project_id")
    public UUID projectId;
    @Column(name = "resource_type")
    public String resourceType;
    @Column(name = "resource_id")
    public UUID resourceId;
    public String type;
    public String status;
    public int progress;
    @Column(name = "from_status")
    public String fromStatus;
    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, String> params;
    @Column(name = "error_code")
    public String errorCode;
    @Column(name = "error_message")
    public String errorMessage;
    @Column(name = "started_at")
    public OffsetDateTime startedAt;
    @Column(name = "finished_at")
    public OffsetDateTime finishedAt;
    /** The host command this action sent; re-published unchanged (same id) while the host has not answered. */
    @Column(name = "command_id")
    public UUID commandId;
    /** That command as published (JSON). */
    public String command;
    /** When the host first reported on this action (progress or outcome); null = never acknowledged. */
    @Column(name = "acked_at")
    public OffsetDateTime ackedAt;
    /** After this instant ActionSweeper fails the action (host_unreachable / timeout). */
    @Column(name = "deadline_at")
    public OffsetDateTime deadlineAt;
    @Column(name = "republished_at")
    public OffsetDateTime republishedAt;
    @Column(name = "republish_count")
    public int republishCount;
}
