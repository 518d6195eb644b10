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

/** A personal access token; only the SHA-256 of its secret is stored. */
@Entity
@Table(name = "api_tokens")
public class TokenEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "user_id")
    public UUID userId;
    public String name;
    public String scopes;
    public String prefix;
    @Column(name = "secret_hash")
    public String secretHash;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
    @Column(name = "expires_at")
    public OffsetDateTime expiresAt;
    @Column(name = "last_used_at")
    public OffsetDateTime lastUsedAt;
    @Column(name = "revoked_at")
    public OffsetDateTime revokedAt;
}
