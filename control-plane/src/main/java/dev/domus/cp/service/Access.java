// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.MembershipEntity;
import dev.domus.cp.domain.ProjectEntity;
import dev.domus.cp.domain.Role;
import dev.domus.cp.domain.Scope;
import io.quarkus.arc.Arc;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.UUID;

/**
 * Authorization of tenant resources. A caller who is not a member of the owning organization gets 404 (the
 * resource's existence is not revealed); a member with too weak a role or token scope gets 403.
 */
@ApplicationScoped
public class Access {

    public void requireScope(Caller caller, Scope scope) {
        if (!caller.has(scope)) {
            throw DomusException.insufficientScope(scope.wire());
        }
    }

    public void requireOperator(Caller caller) {
        if (!caller.operator()) {
            throw DomusException.forbidden("operator role required");
        }
    }

    /** The caller's role in the organization, at least {@code min}. */
    public Role requireOrg(Caller caller, UUID orgId, Role min, Scope scope) {
        MembershipEntity m = MembershipEntity.find("organizationId = ?1 and userId = ?2", orgId, caller.userId())
                .firstResult();
        if (m == null) {
            throw DomusException.notFound("organization", orgId);
        }
        audit(orgId, null);
        requireScope(caller, scope);
        Role role = Role.fromWire(m.role);
        if (!role.atLeast(min)) {
            throw DomusException.forbidden("role " + min.wire() + " or higher required, you are " + role.wire());
        }
        return role;
    }

    /** The project, if the caller's role in its organization is at least {@code min}. */
    public ProjectEntity requireProject(Caller caller, UUID projectId, Role min, Scope scope) {
        ProjectEntity p = ProjectEntity.findById(projectId);
        if (p == null) {
            throw DomusException.notFound("project", projectId);
        }
        MembershipEntity m = MembershipEntity.find("organizationId = ?1 and userId = ?2", p.organizationId,
                caller.userId()).firstResult();
        if (m == null) {
            throw DomusException.notFound("project", projectId);
        }
        audit(p.organizationId, p.id);
        requireScope(caller, scope);
        Role role = Role.fromWire(m.role);
        if (!role.atLeast(min)) {
            throw DomusException.forbidden("role " + min.wire() + " or higher required, you are " + role.wire());
        }
        return p;
    }

    /** For a resource found by id: 404 unless the caller may see its project, 403 if they may not change it. */
    public ProjectEntity requireResource(Caller caller, String type, UUID id, UUID projectId, Role min, Scope scope) {
        try {
            return requireProject(caller, projectId, min, scope);
        } catch (DomusException e) {
            if (e.kind() == DomusException.Kind.NOT_FOUND) {
                throw DomusException.notFound(type, id);
            }
            throw e;
        } finally {
            resource(type, id);
        }
    }

    static void audit(UUID orgId, UUID projectId) {
        var ctx = Arc.container().requestContext();
        if (ctx.isActive()) {
            Arc.container().instance(AuditContext.class).get().tenant(orgId, projectId);
        }
    }

    static void resource(String type, Object id) {
        var ctx = Arc.container().requestContext();
        if (ctx.isActive()) {
            Arc.container().instance(AuditContext.class).get().resource(type, id);
        }
    }
}
