// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.ProjectUpdate;
import dev.domus.api.model.QuotaList;
import dev.domus.api.model.QuotaUpdate;
import dev.domus.api.server.ProjectsApi;
import dev.domus.cp.domain.QuotaResource;
import dev.domus.cp.service.TenancyService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.UUID;

/** Projects and their quotas. */
@Authenticated
@jakarta.ws.rs.Path("")
public class ProjectsResource implements ProjectsApi {
    @Inject
    CurrentCaller current;
    @Inject
    BodyCheck check;
    @Inject
    TenancyService tenancy;

    @Override
    public Response getProject(UUID projectId) {
        return Responses.ok(Dto.project(tenancy.getProject(current.get(), projectId)));
    }

    @Override
    public Response updateProject(UUID projectId, ProjectUpdate body) {
        check.valid(body);
        return Responses.ok(Dto.project(tenancy.updateProject(current.get(), projectId,
                Optional.ofNullable(body.getDescription()))));
    }

    @Override
    public Response deleteProject(UUID projectId) {
        tenancy.deleteProject(current.get(), projectId);
        return Responses.noContent();
    }

    @Override
    public Response getQuotas(UUID projectId) {
        return Responses.ok(new QuotaList().items(tenancy.quotas(current.get(), projectId).stream().map(Dto::quota).toList()));
    }

    @Override
    public Response setQuota(UUID projectId, QuotaUpdate body) {
        check.valid(body);
        return Responses.ok(new QuotaList().items(tenancy.setQuota(current.get(), projectId,
                QuotaResource.fromWire(body.getResource().toString()), body.getLimit()).stream().map(Dto::quota).toList()));
    }
}
