// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.Action;
import dev.domus.api.model.ActionError;
import dev.domus.api.model.ActionStatus;
import dev.domus.api.model.ActionType;
import dev.domus.api.model.AuditEvent;
import dev.domus.api.model.Capacity;
import dev.domus.api.model.Host;
import dev.domus.api.model.HostAllocated;
import dev.domus.api.model.HostState;
import dev.domus.api.model.Image;
import dev.domus.api.model.ImageStatus;
import dev.domus.api.model.Member;
import dev.domus.api.model.Organization;
import dev.domus.api.model.Plan;
import dev.domus.api.model.Project;
import dev.domus.api.model.Quota;
import dev.domus.api.model.QuotaResource;
import dev.domus.api.model.Region;
import dev.domus.api.model.Role;
import dev.domus.api.model.Scope;
import dev.domus.api.model.SshKey;
import dev.domus.api.model.Tier;
import dev.domus.api.model.Token;
import dev.domus.api.model.Vps;
import dev.domus.api.model.VpsStatus;
import dev.domus.cp.domain.ActionEntity;
import dev.domus.cp.domain.AuditEventEntity;
import dev.domus.cp.domain.HostEntity;
import dev.domus.cp.domain.ImageEntity;
import dev.domus.cp.domain.PlanEntity;
import dev.domus.cp.domain.ProjectEntity;
import dev.domus.cp.domain.RegionEntity;
import dev.domus.cp.domain.SshKeyEntity;
import dev.domus.cp.domain.TokenEntity;
import dev.domus.cp.domain.VpsEntity;
import dev.domus.cp.service.QuotaService;
import dev.domus.cp.service.TenancyService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** Entity to API model mapping (one place, so the wire form is defined once). */
final class Dto {
    private static final Map<UUID, String> PLAN_NAMES = new ConcurrentHashMap<>();
    private static final Map<UUID, String> IMAGE_NAMES = new ConcurrentHashMap<>();

    private Dto() {
    }

    static Organization org(TenancyService.OrgView v) {
        return new Organization().id(v.org().id).name(v.org().name).displayName(v.org().displayName)
                .tier(Tier.fromValue(v.org().tier)).role(Role.fromValue(v.role().wire())).createdAt(v.org().createdAt);
    }

    static Member member(TenancyService.MemberView v) {
        return new Member().id(v.membership().id).userId(v.membership().userId).email(v.email())
                .role(Role.fromValue(v.membership().role)).createdAt(v.membership().createdAt);
    }

    static Project project(ProjectEntity p) {
        return new Project().id(p.id).organizationId(p.organizationId).name(p.name).description(p.description)
                .createdAt(p.createdAt);
    }

    static Quota quota(QuotaService.Quota q) {
        return new Quota().resource(QuotaResource.fromValue(q.resource().wire())).limit(q.limit()).used(q.used());
    }

    static Token token(TokenEntity t) {
        List<Scope> scopes = new ArrayList<>();
        for (dev.domus.cp.domain.Scope s : dev.domus.cp.domain.Scope.parse(t.scopes)) {
            scopes.add(Scope.fromValue(s.wire()));
        }
        return new Token().id(t.id).name(t.name).scopes(scopes).prefix(t.prefix).createdAt(t.createdAt)
                .expiresAt(t.expiresAt).lastUsedAt(t.lastUsedAt).revokedAt(t.revokedAt);
    }

    static SshKey sshKey(SshKeyEntity k) {
        return new SshKey().id(k.id).projectId(k.projectId).name(k.name).type(k.type).bits(k.bits)
                .fingerprint(k.fingerprint).publicKey(k.publicKey).labels(new HashMap<>(k.labels)).createdAt(k.createdAt);
    }

    static Plan plan(PlanEntity p) {
        return new Plan().id(p.id).name(p.name).vcpus(p.vcpus).memoryMb(p.memoryMb).diskGb(p.diskGb)
                .transferGb(p.transferGb).priceHourlyMinor(p.priceHourlyMinor).priceMonthlyMinor(p.priceMonthlyMinor)
                .currency(p.currency).available(p.available);
    }

    static Image image(ImageEntity i) {
        return new Image().id(i.id).name(i.name).arch(i.arch).version(i.version).description(i.description)
                .status(ImageStatus.fromValue(i.status)).createdAt(i.createdAt);
    }

    static Region region(RegionEntity r) {
        return new Region().id(r.id).name(r.name).displayName(r.displayName).available(r.available);
    }

    static Host host(HostEntity h) {
        return new Host().id(h.id).name(h.name).region(h.region).state(HostState.fromValue(h.state))
                .capacity(new Capacity().vcpus(h.capVcpus).memoryMb(h.capMemoryMb).diskGb(h.capDiskGb))
                .allocated(new HostAllocated().vcpus(h.allocVcpus).memoryMb(h.allocMemoryMb).diskGb(h.allocDiskGb))
                .vpsCount(h.vpsCount).agentVersion(h.agentVersion).lastHeartbeatAt(h.lastHeartbeatAt)
                .utilization(h.utilization == null ? null : utilization(h.utilization))
                .vpsNetwork(h.vpsGateway == null ? null : new dev.domus.api.model.VpsNetwork().gateway(h.vpsGateway)
                        .poolFirst(h.poolFirst).poolLast(h.poolLast))
                .createdAt(h.createdAt);
    }

    /** From the stored JSON (written by HostEventService from the heartbeat); numbers come back as any Number. */
    @SuppressWarnings("unchecked")
    static dev.domus.api.model.HostUtilization utilization(Map<String, Object> m) {
        List<dev.domus.api.model.VpsUtilization> vps = new java.util.ArrayList<>();
        if (m.get("vps") instanceof List<?> list) {
            for (Object o : list) {
                Map<String, Object> v = (Map<String, Object>) o;
                vps.add(new dev.domus.api.model.VpsUtilization().vpsId(UUID.fromString((String) v.get("vps_id")))
                        .vcpus(num(v, "vcpus").intValue()).memoryMb(num(v, "memory_mb").intValue())
                        .cpuPercent(num(v, "cpu_percent").doubleValue()).rssBytes(num(v, "rss_bytes").longValue()));
            }
        }
        return new dev.domus.api.model.HostUtilization()
                .measuredAt(java.time.OffsetDateTime.parse((String) m.get("measured_at")))
                .runningVps(num(m, "running_vps").intValue()).cpuCount(num(m, "cpu_count").intValue())
                .memoryMb(num(m, "memory_mb").longValue()).allocatedVcpus(num(m, "allocated_vcpus").intValue())
                .allocatedMemoryMb(num(m, "allocated_memory_mb").longValue())
                .cpuPercent(num(m, "cpu_percent").doubleValue()).rssBytes(num(m, "rss_bytes").longValue()).vps(vps);
    }

    private static Number num(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n : 0;
    }

    static Vps vps(VpsEntity v) {
        // Plan and image names are immutable: cache them instead of a join per listed server.
        String plan = PLAN_NAMES.computeIfAbsent(v.planId, id -> PlanEntity.<PlanEntity>findById(id).name);
        String image = IMAGE_NAMES.computeIfAbsent(v.imageId, id -> ImageEntity.<ImageEntity>findById(id).name);
        return new Vps().id(v.id).projectId(v.projectId).name(v.name).status(VpsStatus.fromValue(v.status))
                .plan(plan).image(image).region(v.region).hostId(v.hostId).vcpus(v.vcpus).memoryMb(v.memoryMb)
                .diskGb(v.diskGb).labels(new HashMap<>(v.labels)).sshKeys(new ArrayList<>(v.sshKeyIds))
                .locked(v.currentActionId != null).ipv4(ipv4(v)).macAddress(dev.domus.api.events.VpsSpec.macFor(v.id))
                .createdAt(v.createdAt).updatedAt(v.updatedAt);
    }

    /** The pool address as the API shows it, with its host's gateway (one lookup per host: session cache). */
    private static List<dev.domus.api.model.VpsIpv4> ipv4(VpsEntity v) {
        if (v.ipv4 == null) {
            return new ArrayList<>();
        }
        int slash = v.ipv4.indexOf('/');
        HostEntity h = v.hostId == null ? null : HostEntity.findById(v.hostId);
        String gw = h == null || h.vpsGateway == null ? "" : h.vpsGateway.substring(0, h.vpsGateway.indexOf('/'));
        return new ArrayList<>(List.of(new dev.domus.api.model.VpsIpv4().address(v.ipv4.substring(0, slash))
                .prefixLength(Integer.parseInt(v.ipv4.substring(slash + 1))).gateway(gw)));
    }

    static Action action(ActionEntity a) {
        Action out = new Action().id(a.id).type(ActionType.fromValue(a.type)).status(ActionStatus.fromValue(a.status))
                .progress(a.progress).resourceType(Action.ResourceTypeEnum.VPS).resourceId(a.resourceId)
                .startedAt(a.startedAt).finishedAt(a.finishedAt);
        if (a.errorCode != null) {
            out.error(new ActionError().code(a.errorCode).message(a.errorMessage == null ? "" : a.errorMessage));
        }
        return out;
    }

    static dev.domus.api.model.VpsEvent vpsEvent(dev.domus.cp.domain.VpsEventEntity e) {
        return new dev.domus.api.model.VpsEvent().id(e.id)
                .type(dev.domus.api.model.VpsEvent.TypeEnum.fromValue(e.type)).state(e.state).code(e.code)
                .message(e.message).hostId(e.hostId).occurredAt(e.occurredAt);
    }

    static AuditEvent audit(AuditEventEntity e) {
        return new AuditEvent().id(e.id).actor(e.actor).actorTokenId(e.actorTokenId).method(e.method).path(e.path)
                .resourceType(e.resourceType).resourceId(e.resourceId).status(e.status).code(e.code)
                .occurredAt(e.occurredAt);
    }
}
