// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.Ids;
import dev.domus.cp.domain.MembershipEntity;
import dev.domus.cp.domain.OrganizationEntity;
import dev.domus.cp.domain.ProjectEntity;
import dev.domus.cp.domain.QuotaResource;
import dev.domus.cp.domain.Role;
import dev.domus.cp.domain.Scope;
import dev.domus.cp.domain.SshKeyEntity;
import dev.domus.cp.domain.UserEntity;
import dev.domus.cp.domain.VpsEntity;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/** Organizations, their members and projects. */
@ApplicationScoped
public class TenancyService {
    private static final Logger LOG = Logger.getLogger(TenancyService.class);

    @Inject
    Access access;
    @Inject
    QuotaService quotas;
    @Inject
    UserService users;

    /** An organization with the caller's role in it. */
    public record OrgView(OrganizationEntity org, Role role) {
    }

    /** A membership with the member's e-mail. */
    public record MemberView(MembershipEntity membership, String email) {
    }

    @Transactional
    public OrgView createOrganization(Caller caller, String name, Optional<String> displayName) {
        access.requireScope(caller, Scope.ADMIN);
        if (OrganizationEntity.count("name", name) > 0) {
            throw DomusException.conflict("already_exists", "organization name " + name + " is taken");
        }
        OrganizationEntity o = new OrganizationEntity();
        o.id = Ids.next();
        o.name = name;
        o.displayName = displayName.orElse(name);
        o.tier = "free";
        o.createdAt = UserService.now();
        o.persist();
        addMembership(o.id, caller.userId(), Role.OWNER);
        Access.audit(o.id, null);
        Access.resource("organization", o.id);
        LOG.infof("event=organization.created org=%s owner=%s", o.id, caller.userId());
        return new OrgView(o, Role.OWNER);
    }

    public Page<OrgView> listOrganizations(Caller caller, Optional<UUID> after, int size) {
        access.requireScope(caller, Scope.READ);
        List<MembershipEntity> ms = after.isPresent()
                ? MembershipEntity.<MembershipEntity>find("userId = ?1 and organizationId > ?2", Sort.by("organizationId"),
                caller.userId(), after.get()).range(0, size).list()
                : MembershipEntity.<MembershipEntity>find("userId = ?1", Sort.by("organizationId"), caller.userId())
                .range(0, size).list();
        List<OrgView> out = new ArrayList<>();
        for (MembershipEntity m : ms) {
            OrganizationEntity o = OrganizationEntity.findById(m.organizationId);
            out.add(new OrgView(o, Role.fromWire(m.role)));
        }
        return Page.of(out, size, v -> v.org().id);
    }

    public OrgView getOrganization(Caller caller, UUID orgId) {
        Role role = access.requireOrg(caller, orgId, Role.VIEWER, Scope.READ);
        return new OrgView(OrganizationEntity.findById(orgId), role);
    }

    @Transactional
    public OrgView updateOrganization(Caller caller, UUID orgId, Optional<String> displayName, Optional<String> tier) {
        if (caller.operator() && displayName.isEmpty() && tier.isPresent()) {
            // Operators set tiers of any organization; they need no membership for that.
            OrganizationEntity o = OrganizationEntity.findById(orgId);
            if (o == null) {
                throw DomusException.notFound("organization", orgId);
            }
            Access.audit(orgId, null);
            Access.resource("organization", orgId);
            o.tier = tier.get();
            MembershipEntity m = MembershipEntity.find("organizationId = ?1 and userId = ?2", orgId, caller.userId())
                    .firstResult();
            return new OrgView(o, m == null ? Role.VIEWER : Role.fromWire(m.role));
        }
        Role role = access.requireOrg(caller, orgId, Role.ADMIN, Scope.ADMIN);
        Access.resource("organization", orgId);
        OrganizationEntity o = OrganizationEntity.findById(orgId);
        if (tier.isPresent() && !tier.get().equals(o.tier)) {
            access.requireOperator(caller);
            o.tier = tier.get();
        }
        if (displayName.isPresent()) {
            if (!role.atLeast(Role.ADMIN)) {
                throw DomusException.forbidden("role admin or higher required");
            }
            o.displayName = displayName.get();
        }
        return new OrgView(o, role);
    }

    public Page<MemberView> listMembers(Caller caller, UUID orgId, Optional<UUID> after, int size) {
        access.requireOrg(caller, orgId, Role.VIEWER, Scope.READ);
        var q = after.isPresent()
                ? MembershipEntity.<MembershipEntity>find("organizationId = ?1 and id > ?2", Sort.by("id"), orgId, after.get())
                : MembershipEntity.<MembershipEntity>find("organizationId = ?1", Sort.by("id"), orgId);
        List<MemberView> out = new ArrayList<>();
        for (MembershipEntity m : q.range(0, size).list()) {
            UserEntity u = UserEntity.findById(m.userId);
            out.add(new MemberView(m, u.email));
        }
        return Page.of(out, size, v -> v.membership().id);
    }

    @Transactional
    public MemberView addMember(Caller caller, UUID orgId, String email, Role role) {
        Role mine = access.requireOrg(caller, orgId, Role.ADMIN, Scope.ADMIN);
        if (role == Role.OWNER && mine != Role.OWNER) {
            throw DomusException.forbidden("only owners can add owners");
        }
        UserEntity u = users.byEmailOrInvite(email);
        if (MembershipEntity.count("organizationId = ?1 and userId = ?2", orgId, u.id) > 0) {
            throw DomusException.conflict("already_exists", email + " is already a member");
        }
        MembershipEntity m = addMembership(orgId, u.id, role);
        Access.resource("member", m.id);
        return new MemberView(m, u.email);
    }

    @Transactional
    public MemberView updateMember(Caller caller, UUID orgId, UUID memberId, Role role) {
        Role mine = access.requireOrg(caller, orgId, Role.ADMIN, Scope.ADMIN);
        Access.resource("member", memberId);
        MembershipEntity m = member(orgId, memberId);
        Role current = Role.fromWire(m.role);
        if ((role == Role.OWNER || current == Role.OWNER) && mine != Role.OWNER) {
            throw DomusException.forbidden("only owners can grant or take the owner role");
        }
        if (current == Role.OWNER && role != Role.OWNER) {
            requireAnotherOwner(orgId);
        }
        m.role = role.wire();
        return new MemberView(m, UserEntity.<UserEntity>findById(m.userId).email);
    }

    @Transactional
    public void removeMember(Caller caller, UUID orgId, UUID memberId) {
        Role mine = access.requireOrg(caller, orgId, Role.ADMIN, Scope.ADMIN);
        Access.resource("member", memberId);
        MembershipEntity m = member(orgId, memberId);
        if (Role.fromWire(m.role) == Role.OWNER) {
            if (mine != Role.OWNER) {
                throw DomusException.forbidden("only owners can remove owners");
            }
            requireAnotherOwner(orgId);
        }
        m.delete();
    }

    private void requireAnotherOwner(UUID orgId) {
        if (MembershipEntity.count("organizationId = ?1 and role = 'owner'", orgId) <= 1) {
            throw DomusException.conflict("last_owner", "an organization needs at least one owner");
        }
    }

    private static MembershipEntity member(UUID orgId, UUID memberId) {
        MembershipEntity m = MembershipEntity.findById(memberId);
        if (m == null || !m.organizationId.equals(orgId)) {
            throw DomusException.notFound("member", memberId);
        }
        return m;
    }

    private static MembershipEntity addMembership(UUID orgId, UUID userId, Role role) {
        MembershipEntity m = new MembershipEntity();
        m.id = Ids.next();
        m.organizationId = orgId;
        m.userId = userId;
        m.role = role.wire();
        m.createdAt = UserService.now();
        m.persist();
        return m;
    }

    public Page<ProjectEntity> listProjects(Caller caller, UUID orgId, Optional<UUID> after, int size) {
        access.requireOrg(caller, orgId, Role.VIEWER, Scope.READ);
        var q = after.isPresent()
                ? ProjectEntity.<ProjectEntity>find("organizationId = ?1 and id > ?2", Sort.by("id"), orgId, after.get())
                : ProjectEntity.<ProjectEntity>find("organizationId = ?1", Sort.by("id"), orgId);
        return Page.of(q.range(0, size).list(), size, p -> p.id);
    }

    @Transactional
    public ProjectEntity createProject(Caller caller, UUID orgId, String name, Optional<String> description) {
        access.requireOrg(caller, orgId, Role.ADMIN, Scope.ADMIN);
        if (ProjectEntity.count("organizationId = ?1 and name = ?2", orgId, name) > 0) {
            throw DomusException.conflict("already_exists", "project " + name + " exists");
        }
        ProjectEntity p = new ProjectEntity();
        p.id = Ids.next();
        p.organizationId = orgId;
        p.name = name;
        p.description = description.orElse("");
        p.createdAt = UserService.now();
        p.persist();
        OrganizationEntity o = OrganizationEntity.findById(orgId);
        quotas.initialize(p.id, o.tier);
        Access.audit(orgId, p.id);
        Access.resource("project", p.id);
        LOG.infof("event=project.created org=%s project=%s", orgId, p.id);
        return p;
    }

    public ProjectEntity getProject(Caller caller, UUID projectId) {
        return access.requireResource(caller, "project", projectId, projectId, Role.VIEWER, Scope.READ);
    }

    @Transactional
    public ProjectEntity updateProject(Caller caller, UUID projectId, Optional<String> description) {
        ProjectEntity p = access.requireResource(caller, "project", projectId, projectId, Role.ADMIN, Scope.ADMIN);
        description.ifPresent(d -> p.description = d);
        return p;
    }

    @Transactional
    public void deleteProject(Caller caller, UUID projectId) {
        ProjectEntity p = access.requireResource(caller, "project", projectId, projectId, Role.ADMIN, Scope.ADMIN);
        if (VpsEntity.count("projectId = ?1 and status <> 'deleted'", projectId) > 0
                || SshKeyEntity.count("projectId", projectId) > 0) {
            throw DomusException.conflict("not_empty", "project still has servers or SSH keys");
        }
        p.delete();
    }

    public List<QuotaService.Quota> quotas(Caller caller, UUID projectId) {
        access.requireResource(caller, "project", projectId, projectId, Role.VIEWER, Scope.READ);
        return quotas.list(projectId);
    }

    @Transactional
    public List<QuotaService.Quota> setQuota(Caller caller, UUID projectId, QuotaResource resource, long limit) {
        ProjectEntity p = ProjectEntity.findById(projectId);
        if (p == null) {
            throw DomusException.notFound("project", projectId);
        }
        if (!caller.operator()) {
            // Members learn it is operator-only; everyone else learns nothing.
            access.requireResource(caller, "project", projectId, projectId, Role.VIEWER, Scope.READ);
            access.requireOperator(caller);
        }
        Access.audit(p.organizationId, p.id);
        Access.resource("quota", projectId + "/" + resource.wire());
        quotas.setLimit(projectId, resource, limit);
        return quotas.list(projectId);
    }
}
