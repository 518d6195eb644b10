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

/** A validated SSH public key of a project. */
@Entity
@Table(name = "ssh_keys")
public class SshKeyEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "project_id")
    public UUID projectId;
    public String name;
    public String type;
    public int bits;
    public String fingerprint;
    @Column(name = "public_key")
    public String publicKey;
    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, String> labels;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
}
