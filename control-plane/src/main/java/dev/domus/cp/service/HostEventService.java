// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostUtilization;
import dev.domus.cp.domain.ActionEntity;
import dev.domus.cp.domain.HostEntity;
import dev.domus.cp.domain.VpsEntity;
import dev.domus.cp.domain.VpsEventEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
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
    ActionCompletion completion;
    @Inject
    ActionService actions;

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
                    actions.acknowledged(a);
                    a.progress = Math.max(a.progress, Math.min(99, e.progress().orElse(a.progress)));
                }
            }
            case ACTION_SUCCEEDED, ACTION_FAILED -> {
                ActionEntity a = currentAction(e);
                if (a != null) {
                    actions.acknowledged(a);
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
        if (e.type() == dev.domus.api.events.HostEventType.ACTION_SUCCEEDED) {
            completion.succeed(a, v);
        } else {
            completion.fail(a, v, e.errorCode().orElse("host_error"),
                    e.errorMessage().orElse("the host reported a failure"));
        }
    }
}
