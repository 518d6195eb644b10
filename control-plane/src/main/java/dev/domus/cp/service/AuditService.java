// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.AuditEventEntity;
import dev.domus.cp.domain.Ids;
import dev.domus.cp.domain.Role;
import dev.domus.cp.domain.Scope;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.Optional;
import java.util.UUID;

/** The audit log: one row per mutating call, written in its own transaction so failed calls are recorded too. */
@ApplicationScoped
public class AuditService {
    @Inject
    Access access;

    /** One mutating call as seen by the API layer. */
    public record Entry(Optional<Caller> caller, String method, String path, int status, Optional<String> code,
                        Optional<UUID> organizationId, Optional<UUID> projectId, Optional<String> resourceType,
                        Optional<String> resourceId) {
    }

    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public void record(Entry e) {
        AuditEventEntity a = new AuditEventEntity();
        a.id = Ids.next();
        a.organizationId = e.organizationId().orElse(null);
        a.projectId = e.projectId().orElse(null);
        a.actor = e.caller().map(Caller::actor).orElse("anonymous");
        a.actorUserId = e.caller().map(Caller::userId).orElse(null);
        a.actorTokenId = e.caller().flatMap(Caller::tokenId).orElse(null);
        a.method = e.method();
        a.path = e.path();
        a.resourceType = e.resourceType().orElse(null);
        a.resourceId = e.resourceId().orElse(null);
        a.status = e.status();
        a.code = e.code().orElse(null);
        a.occurredAt = UserService.now();
        a.persist();
    }

    /** Newest first; the page token is the last id seen. */
    public Page<AuditEventEntity> list(Caller caller, UUID orgId, Optional<UUID> before, int size) {
        access.requireOrg(caller, orgId, Role.ADMIN, Scope.READ);
        var q = before.isPresent()
                ? AuditEventEntity.<AuditEventEntity>find("organizationId = ?1 and id < ?2", Sort.descending("id"), orgId,
                before.get())
                : AuditEventEntity.<AuditEventEntity>find("organizationId = ?1", Sort.descending("id"), orgId);
        return Page.of(q.range(0, size).list(), size, a -> a.id);
    }
}
