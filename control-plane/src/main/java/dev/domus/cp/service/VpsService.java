// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.api.events.HostCommand;
import dev.domus.api.events.VpsSpec;
import dev.domus.cp.domain.ActionEntity;
import dev.domus.cp.domain.ActionType;
import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.Ids;
import dev.domus.cp.domain.ImageEntity;
import dev.domus.cp.domain.LabelSelector;
import dev.domus.cp.domain.Labels;
import dev.domus.cp.domain.PlanEntity;
import dev.domus.cp.domain.ProjectEntity;
import dev.domus.cp.domain.QuotaResource;
import dev.domus.cp.domain.RegionEntity;
import dev.domus.cp.domain.Role;
import dev.domus.cp.domain.Scope;
import dev.domus.cp.domain.SshKeyEntity;
import dev.domus.cp.domain.VpsEntity;
import dev.domus.cp.domain.VpsStatus;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.Query;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The server lifecycle. Every change locks the server row, refuses it while another action runs (409
 * {@code locked}), checks the state machine, reserves quota and host capacity, and writes the server, its action and
 * the host command (outbox) in one transaction.
 */
@ApplicationScoped
public class VpsService {
    private static final Logger LOG = Logger.getLogger(VpsService.class);

    @Inject
    Access access;
    @Inject
    CatalogService catalog;
    @Inject
    QuotaService quotas;
    @Inject
    Scheduler scheduler;
    @Inject
    ActionService actions;
    @Inject
    IpPool ips;
    @Inject
    EntityManager em;

    /** What a customer asks for. */
    public record NewVps(String name, String plan, String image, String region, List<UUID> sshKeys,
                         Optional<String> userData, Map<String, String> labels) {
    }

    /** List filters. */
    public record Filter(Optional<String> labelSelector, Optional<VpsStatus> status, Optional<String> name,
                         Optional<String> region) {
    }

    /** The parameters of an action request. */
    public record ActionParams(Optional<String> plan, Optional<String> image, Optional<String> snapshotName) {
    }

    /** A server with the action that changes it. */
    public record WithAction(VpsEntity vps, ActionEntity action) {
    }

    @Transactional
    public WithAction create(Caller caller, UUID projectId, NewVps req) {
        ProjectEntity project = access.requireProject(caller, projectId, Role.MEMBER, Scope.WRITE);
        PlanEntity plan = catalog.plan(req.plan());
        ImageEntity image = catalog.image(req.image());
        RegionEntity region = catalog.region(req.region());
        Map<String, String> labels = Labels.validate("labels", req.labels());
        List<UUID> keyIds = new ArrayList<>(new LinkedHashSet<>(req.sshKeys()));
        List<String> keys = new ArrayList<>();
        for (UUID k : keyIds) {
            SshKeyEntity key = SshKeyEntity.findById(k);
            if (key == null || !key.projectId.equals(project.id)) {
                throw DomusException.unprocessable("invalid_reference", "unknown ssh key " + k);
            }
            keys.add(key.publicKey);
        }
        if (VpsEntity.count("projectId = ?1 and name = ?2 and status <> 'deleted'", projectId, req.name()) > 0) {
            throw DomusException.conflict("already_exists", "a server named " + req.name() + " exists in this project");
        }
        quotas.reserve(projectId, QuotaService.server(plan.vcpus, plan.memoryMb, plan.diskGb, 1));
        UUID hostId = scheduler.place(new Placement.Request(region.name, plan.vcpus, plan.memoryMb, plan.diskGb));

        VpsEntity v = new VpsEntity();
        v.id = Ids.next();
        v.projectId = projectId;
        v.name = req.name();
        v.status = VpsStatus.CREATING.wire();
        v.planId = plan.id;
        v.imageId = image.id;
        v.region = region.name;
        v.hostId = hostId;
        v.vcpus = plan.vcpus;
        v.memoryMb = plan.memoryMb;
        v.diskGb = plan.diskGb;
        v.labels = labels;
        v.sshKeyIds = keyIds;
        v.userData = req.userData().orElse("");
        v.epoch = 1;
        v.ipv4 = ips.allocate(hostId).orElse(null);
        v.createdAt = UserService.now();
        v.updatedAt = v.createdAt;
        ActionEntity a = newAction(v, ActionType.CREATE, VpsStatus.CREATING, Map.of());
        v.currentActionId = a.id;
        v.persist();
        a.persist();
        actions.send(a, HostCommand.of(ActionType.CREATE.command(), hostId, v.id, a.id, v.epoch,
                Optional.of(spec(v, project, plan.name, v.vcpus, v.memoryMb, v.diskGb, image.name, keys)),
                Optional.empty()));
        Access.resource("vps", v.id);
        LOG.infof("event=vps.create project=%s vps=%s host=%s action=%s plan=%s ipv4=%s", projectId, v.id, hostId,
                a.id, plan.name, v.ipv4);
        return new WithAction(v, a);
    }

    public Page<VpsEntity> list(Caller caller, UUID projectId, Filter f, Optional<UUID> after, int size) {
        access.requireProject(caller, projectId, Role.VIEWER, Scope.READ);
        LabelSelector selector = LabelSelector.parse(f.labelSelector().orElse(""));
        StringBuilder sql = new StringBuilder("SELECT * FROM vps WHERE project_id = ?1");
        List<Object> params = new ArrayList<>();
        params.add(projectId);
        if (f.status().isPresent()) {
            params.add(f.status().get().wire());
            sql.append(" AND status = ?").append(params.size());
        } else {
            sql.append(" AND status <> 'deleted'");
        }
        f.name().ifPresent(n -> {
            params.add(n);
            sql.append(" AND name = ?").append(params.size());
        });
        f.region().ifPresent(r -> {
            params.add(r);
            sql.append(" AND region = ?").append(params.size());
        });
        after.ifPresent(a -> {
            params.add(a);
            sql.append(" AND id > ?").append(params.size());
        });
        for (LabelSelector.Term t : selector.terms()) {
            params.add(t.key());
            int k = params.size();
            switch (t) {
                case LabelSelector.Equals e -> {
                    params.add(e.value());
                    sql.append(" AND labels ->> ?").append(k).append(" = ?").append(k + 1);
                }
                case LabelSelector.NotEquals e -> {
                    params.add(e.value());
                    sql.append(" AND (labels ->> ?").append(k).append(") IS DISTINCT FROM ?").append(k + 1);
                }
                case LabelSelector.Exists e -> sql.append(" AND jsonb_exists(labels, ?").append(k).append(")");
                case LabelSelector.Absent e -> sql.append(" AND NOT jsonb_exists(labels, ?").append(k).append(")");
            }
        }
        sql.append(" ORDER BY id LIMIT ").append(size + 1);
        Query q = em.createNativeQuery(sql.toString(), VpsEntity.class);
        for (int i = 0; i < params.size(); i++) {
            q.setParameter(i + 1, params.get(i));
        }
        @SuppressWarnings("unchecked")
        List<VpsEntity> rows = q.getResultList();
        return Page.of(rows, size, v -> v.id);
    }

    public VpsEntity get(Caller caller, UUID id) {
        VpsEntity v = VpsEntity.findById(id);
        if (v == null || v.lifecycle() == VpsStatus.DELETED) {
            throw DomusException.notFound("vps", id);
        }
        access.requireResource(caller, "vps", id, v.projectId, Role.VIEWER, Scope.READ);
        return v;
    }

    @Transactional
    public VpsEntity update(Caller caller, UUID id, Optional<String> name, Optional<Map<String, String>> labels) {
        VpsEntity v = lockVisible(caller, id, Role.MEMBER, Scope.WRITE);
        if (name.isPresent() && !name.get().equals(v.name)) {
            if (VpsEntity.count("projectId = ?1 and name = ?2 and status <> 'deleted'", v.projectId, name.get()) > 0) {
                throw DomusException.conflict("already_exists", "a server named " + name.get() + " exists");
            }
            v.name = name.get();
        }
        labels.ifPresent(l -> v.labels = Labels.validate("labels", l));
        v.updatedAt = UserService.now();
        return v;
    }

    @Transactional
    public ActionEntity delete(Caller caller, UUID id) {
        return start(caller, id, ActionType.DELETE, new ActionParams(Optional.empty(), Optional.empty(), Optional.empty()));
    }

    @Transactional
    public ActionEntity runAction(Caller caller, UUID id, ActionType type, ActionParams p) {
        if (type == ActionType.CREATE || type == ActionType.DELETE) {
            throw DomusException.invalid("type", type.wire() + " is started by POST/DELETE on the server");
        }
        return start(caller, id, type, p);
    }

    private ActionEntity start(Caller caller, UUID id, ActionType type, ActionParams p) {
        VpsEntity v = lockVisible(caller, id, Role.MEMBER, Scope.WRITE);
        if (v.currentActionId != null) {
            throw DomusException.conflict("locked", "server " + id + " is locked by running action " + v.currentActionId);
        }
        VpsStatus from = v.lifecycle();
        VpsStatus during = from.begin(type);
        Map<String, String> params = new HashMap<>();
        Optional<VpsSpec> spec = Optional.empty();
        ImageEntity image = ImageEntity.findById(v.imageId);
        switch (type) {
            case RESIZE -> {
                PlanEntity target = catalog.plan(p.plan().orElseThrow(
                        () -> DomusException.invalid("plan", "resize needs a target plan")));
                if (target.diskGb < v.diskGb) {
                    throw DomusException.unprocessable("disk_shrink",
                            "plan " + target.name + " has a smaller disk (" + target.diskGb + " GB < " + v.diskGb + " GB)");
                }
                int dv = target.vcpus - v.vcpus;
                long dm = (long) target.memoryMb - v.memoryMb;
                long dd = (long) target.diskGb - v.diskGb;
                Map<QuotaResource, Long> delta = new EnumMap<>(QuotaResource.class);
                delta.put(QuotaResource.VCPUS, (long) Math.max(0, dv));
                delta.put(QuotaResource.MEMORY_MB, Math.max(0, dm));
                delta.put(QuotaResource.DISK_GB, Math.max(0, dd));
                quotas.reserve(v.projectId, delta);
                if (!scheduler.reserve(v.hostId, Math.max(0, dv), Math.max(0, dm), Math.max(0, dd), 0)) {
                    throw new DomusException(DomusException.Kind.UNAVAILABLE, "no_capacity",
                            "the server's host has no room for plan " + target.name);
                }
                params.put("plan_id", target.id.toString());
                spec = Optional.of(spec(v, ProjectEntity.findById(v.projectId), target.name, target.vcpus,
                        target.memoryMb, target.diskGb, image.name, keys(v)));
            }
            case REBUILD -> {
                ImageEntity target = catalog.image(p.image().orElseThrow(
                        () -> DomusException.invalid("image", "rebuild needs an image")));
                params.put("image_id", target.id.toString());
                PlanEntity plan = PlanEntity.findById(v.planId);
                spec = Optional.of(spec(v, ProjectEntity.findById(v.projectId), plan.name, v.vcpus, v.memoryMb,
                        v.diskGb, target.name, keys(v)));
            }
            case SNAPSHOT -> {
                quotas.reserve(v.projectId, Map.of(QuotaResource.SNAPSHOTS, 1L));
                params.put("snapshot_name", p.snapshotName().orElse(v.name + "-" + UserService.now().toEpochSecond()));
            }
            default -> {
            }
        }
        ActionEntity a = newAction(v, type, from, params);
        v.status = during.wire();
        v.currentActionId = a.id;
        v.updatedAt = UserService.now();
        actions.send(a, HostCommand.of(type.command(), v.hostId, v.id, a.id, v.epoch, spec,
                Optional.ofNullable(params.get("snapshot_name"))));
        a.persist();
        LOG.infof("event=vps.action vps=%s action=%s type=%s from=%s", v.id, a.id, type.wire(), from.wire());
        return a;
    }

    public Page<ActionEntity> listActions(Caller caller, UUID vpsId, Optional<UUID> after, int size) {
        get(caller, vpsId);
        var q = after.isPresent()
                ? ActionEntity.<ActionEntity>find("resourceId = ?1 and id > ?2", Sort.by("id"), vpsId, after.get())
                : ActionEntity.<ActionEntity>find("resourceId = ?1", Sort.by("id"), vpsId);
        return Page.of(q.range(0, size).list(), size, a -> a.id);
    }

    /** What the hosts reported about the server, oldest first. */
    public Page<dev.domus.cp.domain.VpsEventEntity> listEvents(Caller caller, UUID vpsId, Optional<UUID> after, int size) {
        get(caller, vpsId);
        var q = after.isPresent()
                ? dev.domus.cp.domain.VpsEventEntity.<dev.domus.cp.domain.VpsEventEntity>find(
                        "vpsId = ?1 and id > ?2", Sort.by("id"), vpsId, after.get())
                : dev.domus.cp.domain.VpsEventEntity.<dev.domus.cp.domain.VpsEventEntity>find(
                        "vpsId = ?1", Sort.by("id"), vpsId);
        return Page.of(q.range(0, size).list(), size, e -> e.id);
    }

    public ActionEntity getAction(Caller caller, UUID actionId) {
        ActionEntity a = ActionEntity.findById(actionId);
        if (a == null) {
            throw DomusException.notFound("action", actionId);
        }
        access.requireResource(caller, "action", actionId, a.projectId, Role.VIEWER, Scope.READ);
        return a;
    }

    private VpsEntity lockVisible(Caller caller, UUID id, Role role, Scope scope) {
        VpsEntity v = em.find(VpsEntity.class, id, LockModeType.PESSIMISTIC_WRITE);
        if (v == null || v.lifecycle() == VpsStatus.DELETED) {
            throw DomusException.notFound("vps", id);
        }
        access.requireResource(caller, "vps", id, v.projectId, role, scope);
        return v;
    }

    /** What the agent needs to run the server: shape, image, keys, pool address and owner (for usage). */
    private static VpsSpec spec(VpsEntity v, ProjectEntity project, String plan, int vcpus, int memoryMb, int diskGb,
                                String image, List<String> keys) {
        return new VpsSpec(v.name, vcpus, memoryMb, diskGb, image, keys, v.userData, Optional.of(plan),
                Optional.ofNullable(v.ipv4), Optional.ofNullable(project).map(p -> p.organizationId),
                Optional.of(v.projectId));
    }

    private static List<String> keys(VpsEntity v) {
        List<String> out = new ArrayList<>();
        for (UUID k : v.sshKeyIds) {
            SshKeyEntity key = SshKeyEntity.findById(k);
            if (key != null) {
                out.add(key.publicKey);
            }
        }
        return out;
    }

    private static ActionEntity newAction(VpsEntity v, ActionType type, VpsStatus from, Map<String, String> params) {
        ActionEntity a = new ActionEntity();
        a.id = Ids.next();
        a.projectId = v.projectId;
        a.resourceType = "vps";
        a.resourceId = v.id;
        a.type = type.wire();
        a.status = "running";
        a.progress = 0;
        a.fromStatus = from.wire();
        a.params = params;
        a.startedAt = UserService.now();
        return a;
    }
}
