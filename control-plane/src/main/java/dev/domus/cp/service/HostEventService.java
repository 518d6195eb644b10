// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostUtilization;
import dev.domus.cp.domain.ActionEntity;
import dev.domus.cp.domain.ActionType;
import dev.domus.cp.domain.HostEntity;
import dev.domus.cp.domain.ImageEntity;
import dev.domus.cp.domain.PlanEntity;
import dev.domus.cp.domain.QuotaResource;
import dev.domus.cp.domain.VpsEntity;
import dev.domus.cp.domain.VpsEventEntity;
import dev.domus.cp.domain.VpsStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Applies host events to servers and actions. The event id is recorded in the same transaction as the effect, so a
 * redelivered event changes nothing; events from a host that does not hold the server, or for an action that is
 * no longer the server's current one, are ignored.
 */
@ApplicationScoped
public class HostEventService {
    private static final Logger LOG = Logger.getLogger(HostEventService.class);

    @Inject
    EntityManager em;
    @Inject
    QuotaService quotas;
    @Inject
    Scheduler scheduler;

    /** Applies the event once; false when it was a duplicate. */
    @Transactional
    public boolean apply(HostEvent e) {
        int fresh = em.createNativeQuery("INSERT INTO processed_events (event_id, processed_at) VALUES (?1, now()) "
                + "ON CONFLICT DO NOTHING").setParameter(1, e.eventId()).executeUpdate();
        if (fresh == 0) {
            LOG.debugf("event=host_event.duplicate id=%s", e.eventId());
            return false;
        }
        switch (e.type()) {
            case HOST_HEARTBEAT -> {
                HostEntity h = HostEntity.findById(e.hostId());
                if (h != null) {
                    h.lastHeartbeatAt = UserService.now();
                    // Heartbeats can arrive out of order after a redelivery: keep the newest measurement.
                    if (e.utilization().isPresent() && newer(e, h)) {
                        h.utilization = utilization(e, e.utilization().get());
                    }
                }
            }
            case ACTION_PROGRESS -> {
                ActionEntity a = currentAction(e);
                if (a != null) {
                    a.progress = Math.max(a.progress, Math.min(99, e.progress().orElse(a.progress)));
                }
            }
            case ACTION_SUCCEEDED, ACTION_FAILED -> {
                ActionEntity a = currentAction(e);
                if (a != null) {
                    finish(a, e);
                }
            }
            case VPS_STATE -> {
                VpsEntity v = em.find(VpsEntity.class, e.vpsId().orElseThrow(), LockModeType.PESSIMISTIC_WRITE);
                String s = e.vpsState().orElseThrow();
                if (v != null && e.hostId().equals(v.hostId)) {
                    record(v, e, s);
                }
                if (v != null && e.hostId().equals(v.hostId) && v.currentActionId == null && v.lifecycle().settled()
                        && !"deleted".equals(s)) {
                    v.status = s;
                    v.updatedAt = UserService.now();
                }
            }
        }
        return true;
    }

    /** Keeps what the host said for GET /v1/vps/{id}/events, also while an action runs (crashes happen then too). */
    private void record(VpsEntity v, HostEvent e, String state) {
        VpsEventEntity ev = new VpsEventEntity();
        ev.id = dev.domus.cp.domain.Ids.next();
        ev.vpsId = v.id;
        ev.hostId = e.hostId();
        ev.code = e.errorCode().orElse(null);
        ev.type = VpsEventEntity.typeFor(ev.code);
        ev.state = state;
        ev.message = e.errorMessage().orElse(null);
        ev.occurredAt = e.occurredAt().atOffset(java.time.ZoneOffset.UTC);
        ev.persist();
        LOG.infof("event=vps.event vps=%s host=%s type=%s state=%s code=%s", v.id, e.hostId(), ev.type, state, ev.code);
    }

    private static boolean newer(HostEvent e, HostEntity h) {
        if (h.utilization == null || !(h.utilization.get("measured_at") instanceof String at)) {
            return true;
        }
        try {
            return !e.occurredAt().isBefore(java.time.Instant.parse(at));
        } catch (java.time.format.DateTimeParseException ex) {
            return true;
        }
    }

    /** The stored (and API) form: snake_case keys as in openapi.yaml HostUtilization. */
    static Map<String, Object> utilization(HostEvent e, HostUtilization u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("measured_at", e.occurredAt().toString());
        m.put("running_vps", e.runningVps().orElse(u.vps().size()));
        m.put("cpu_count", u.cpuCount());
        m.put("memory_mb", u.memoryMb());
        m.put("allocated_vcpus", u.allocatedVcpus());
        m.put("allocated_memory_mb", u.allocatedMemoryMb());
        m.put("cpu_percent", u.cpuPercent());
        m.put("rss_bytes", u.rssBytes());
        List<Map<String, Object>> vps = new ArrayList<>();
        for (HostUtilization.Vps v : u.vps()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("vps_id", v.vpsId().toString());
            x.put("vcpus", v.vcpus());
            x.put("memory_mb", v.memoryMb());
            x.put("cpu_percent", v.cpuPercent());
            x.put("rss_bytes", v.rssBytes());
            vps.add(x);
        }
        m.put("vps", vps);
        return m;
    }

    private ActionEntity currentAction(HostEvent e) {
        UUID vpsId = e.vpsId().orElseThrow();
        UUID actionId = e.actionId().orElseThrow();
        VpsEntity v = em.find(VpsEntity.class, vpsId, LockModeType.PESSIMISTIC_WRITE);
        if (v == null || !e.hostId().equals(v.hostId) || !actionId.equals(v.currentActionId)) {
            LOG.infof("event=host_event.stale id=%s vps=%s action=%s host=%s", e.eventId(), vpsId, actionId, e.hostId());
            return null;
        }
        ActionEntity a = ActionEntity.findById(actionId);
        return a != null && "running".equals(a.status) ? a : null;
    }

    private void finish(ActionEntity a, HostEvent e) {
        VpsEntity v = VpsEntity.findById(a.resourceId);
        ActionType type = ActionType.fromWire(a.type);
        VpsStatus from = VpsStatus.fromWire(a.fromStatus);
        boolean ok = e.type() == dev.domus.api.events.HostEventType.ACTION_SUCCEEDED;
        if (ok) {
            applySuccess(type, a, v);
            v.status = type.onSuccess(from).wire();
            a.status = "success";
            a.progress = 100;
        } else {
            undo(type, a, v);
            v.status = type.onFailure(from).wire();
            a.status = "error";
            a.errorCode = e.errorCode().orElse("host_error");
            a.errorMessage = e.errorMessage().orElse("the host reported a failure");
        }
        a.finishedAt = UserService.now();
        v.currentActionId = null;
        v.updatedAt = a.finishedAt;
        LOG.infof("event=action.finished vps=%s action=%s type=%s result=%s status=%s", v.id, a.id, a.type, a.status,
                v.status);
    }

    private void applySuccess(ActionType type, ActionEntity a, VpsEntity v) {
        switch (type) {
            case DELETE -> {
                quotas.release(v.projectId, QuotaService.server(v.vcpus, v.memoryMb, v.diskGb, 1));
                scheduler.release(v.hostId, v.vcpus, v.memoryMb, v.diskGb);
            }
            case RESIZE -> {
                PlanEntity p = PlanEntity.findById(UUID.fromString(a.params.get("plan_id")));
                // The reservation covered growth only; give back what shrank.
                Map<QuotaResource, Long> shrink = new EnumMap<>(QuotaResource.class);
                shrink.put(QuotaResource.VCPUS, (long) Math.max(0, v.vcpus - p.vcpus));
                shrink.put(QuotaResource.MEMORY_MB, (long) Math.max(0, v.memoryMb - p.memoryMb));
                quotas.release(v.projectId, shrink);
                scheduler.reserve(v.hostId, -Math.max(0, v.vcpus - p.vcpus), -Math.max(0, v.memoryMb - p.memoryMb), 0, 0);
                v.planId = p.id;
                v.vcpus = p.vcpus;
                v.memoryMb = p.memoryMb;
                v.diskGb = p.diskGb;
            }
            case REBUILD -> {
                ImageEntity i = ImageEntity.findById(UUID.fromString(a.params.get("image_id")));
                v.imageId = i.id;
            }
            default -> {
            }
        }
    }

    private void undo(ActionType type, ActionEntity a, VpsEntity v) {
        switch (type) {
            case RESIZE -> {
                PlanEntity p = PlanEntity.findById(UUID.fromString(a.params.get("plan_id")));
                int dv = Math.max(0, p.vcpus - v.vcpus);
                long dm = Math.max(0, (long) p.memoryMb - v.memoryMb);
                long dd = Math.max(0, (long) p.diskGb - v.diskGb);
                Map<QuotaResource, Long> grow = new EnumMap<>(QuotaResource.class);
                grow.put(QuotaResource.VCPUS, (long) dv);
                grow.put(QuotaResource.MEMORY_MB, dm);
                grow.put(QuotaResource.DISK_GB, dd);
                quotas.release(v.projectId, grow);
                scheduler.reserve(v.hostId, -dv, -dm, -dd, 0);
            }
            case SNAPSHOT -> quotas.release(v.projectId, Map.of(QuotaResource.SNAPSHOTS, 1L));
            default -> {
            }
        }
    }
}
