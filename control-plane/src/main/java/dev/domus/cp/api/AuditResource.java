// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.AuditEventList;
import dev.domus.api.server.AuditApi;
import dev.domus.cp.service.AuditService;
import dev.domus.cp.service.Page;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.UUID;

/** The audit log of an organization. */
@Authenticated
// Class-level @Path is not inherited from the generated interface: repeat it.
@jakarta.ws.rs.Path("/v1/organizations/{organization_id}/audit-events")
public class AuditResource implements AuditApi {
    @Inject
    CurrentCaller current;
    @Inject
    AuditService audit;

    @Override
    public Response listAuditEvents(UUID organizationId, Integer pageSize, String pageToken) {
        var p = audit.list(current.get(), organizationId, Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new AuditEventList().items(p.items().stream().map(Dto::audit).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }
}
