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

/** An operating system image servers are built from. */
@Entity
@Table(name = "images")
public class ImageEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    public String name;
    public String arch;
    public String version;
    public String description;
    public String status;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
}
