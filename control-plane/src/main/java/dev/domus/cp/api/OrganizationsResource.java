// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.MemberCreate;
import dev.domus.api.model.MemberList;
import dev.domus.api.model.MemberUpdate;
import dev.domus.api.model.OrganizationCreate;
import dev.domus.api.model.OrganizationList;
import dev.domus.api.model.OrganizationUpdate;
import dev.domus.api.model.ProjectCreate;
import dev.domus.api.model.ProjectList;
import dev.domus.api.server.OrganizationsApi;
import dev.domus.cp.domain.Role;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.IdempotencyService;
import dev.domus.cp.service.Page;
import dev.domus.cp.service.TenancyService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.UUID;

/** Organizations, members and projects. */
@Authenticated
@jakarta.ws.rs.Path("")
public class OrganizationsResource implements OrganizationsApi {
    @Inject
    CurrentCaller current;
    @Inject
    BodyCheck check;
    @Inject
    TenancyService tenancy;
    @Inject
    IdempotencyService idempotency;

    @Override
    public Response createOrganization(OrganizationCreate body, String idempotencyKey) {
        check.valid(body);
        Caller c = current.get();
        return Responses.idempotent(idempotency, c, idempotencyKey, "POST /v1/organizations", body, 201,
                () -> Dto.org(tenancy.createOrganization(c, body.getName(), Optional.ofNullable(body.getDisplayName()))));
    }

    @Override
    public Response listOrganizations(Integer pageSize, String pageToken) {
        var p = tenancy.listOrganizations(current.get(), Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new OrganizationList().items(p.items().stream().map(Dto::org).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response getOrganization(UUID organizationId) {
        return Responses.ok(Dto.org(tenancy.getOrganization(current.get(), organizationId)));
    }

    @Override
    public Response updateOrganization(UUID organizationId, OrganizationUpdate body) {
        check.valid(body);
        return Responses.ok(Dto.org(tenancy.updateOrganization(current.get(), organizationId,
                Optional.ofNullable(body.getDisplayName()),
                Optional.ofNullable(body.getTier()).map(Object::toString))));
    }

    @Override
    public Response listMembers(UUID organizationId, Integer pageSize, String pageToken) {
        var p = tenancy.listMembers(current.get(), organizationId, Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new MemberList().items(p.items().stream().map(Dto::member).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response addMember(UUID organizationId, MemberCreate body, String idempotencyKey) {
        check.valid(body);
        Caller c = current.get();
        return Responses.idempotent(idempotency, c, idempotencyKey, "POST /v1/organizations/" + organizationId
                + "/members", body, 201, () -> Dto.member(tenancy.addMember(c, organizationId, body.getEmail(),
                Role.fromWire(body.getRole().toString()))));
    }

    @Override
    public Response updateMember(UUID organizationId, UUID memberId, MemberUpdate body) {
        check.valid(body);
        return Responses.ok(Dto.member(tenancy.updateMember(current.get(), organizationId, memberId,
                Role.fromWire(body.getRole().toString()))));
    }

    @Override
    public Response removeMember(UUID organizationId, UUID memberId) {
        tenancy.removeMember(current.get(), organizationId, memberId);
        return Responses.noContent();
    }

    @Override
    public Response listProjects(UUID organizationId, Integer pageSize, String pageToken) {
        var p = tenancy.listProjects(current.get(), organizationId, Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new ProjectList().items(p.items().stream().map(Dto::project).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response createProject(UUID organizationId, ProjectCreate body, String idempotencyKey) {
        check.valid(body);
        Caller c = current.get();
        return Responses.idempotent(idempotency, c, idempotencyKey, "POST /v1/organizations/" + organizationId
                + "/projects", body, 201, () -> Dto.project(tenancy.createProject(c, organizationId, body.getName(),
                Optional.ofNullable(body.getDescription()))));
    }
}
