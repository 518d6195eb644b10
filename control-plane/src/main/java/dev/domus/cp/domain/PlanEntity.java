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

/** A server size with its price in minor units. */
@Entity
@Table(name = "plans")
public class PlanEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    public String name;
    public int vcpus;
    @Column(name = "memory_mb")
    public int memoryMb;
    @Column(name = "disk_gb")
    public int diskGb;
    @Column(name = "transfer_gb")
    public int transferGb;
    @Column(name = "price_hourly_minor")
    public long priceHourlyMinor;
    @Column(name = "price_monthly_minor")
    public long priceMonthlyMinor;
    public String currency;
    public boolean available;
}
