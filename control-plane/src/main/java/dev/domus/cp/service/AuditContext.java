// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import jakarta.enterprise.context.RequestScoped;
import java.util.Optional;
import java.util.UUID;

/** What the current request touched (tenant and resource), filled by the services for the audit log. */
@RequestScoped
public class AuditContext {
    private UUID organizationId;
    private UUID projectId;
    private String resourceType;
    private String resourceId;
    private String code;

    /** The problem code of a failed call. */
    public void failed(String code) {
        this.code = code;
    }

    public Optional<String> code() {
        return Optional.ofNullable(code);
    }

    public void tenant(UUID organizationId, UUID projectId) {
        this.organizationId = organizationId;
        if (projectId != null) {
            this.projectId = projectId;
        }
    }

    public void resource(String type, Object id) {
        this.resourceType = type;
        this.resourceId = String.valueOf(id);
    }

    public Optional<UUID> organizationId() {
        return Optional.ofNullable(organizationId);
    }

    public Optional<UUID> projectId() {
        return Optional.ofNullable(projectId);
    }

    public Optional<String> resourceType() {
        return Optional.ofNullable(resourceType);
    }

    public Optional<String> resourceId() {
        return Optional.ofNullable(resourceId);
    }
}
