// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.ActionEntity;
import dev.domus.cp.domain.ActionType;
import dev.domus.cp.domain.ImageEntity;
import dev.domus.cp.domain.PlanEntity;
import dev.domus.cp.domain.QuotaResource;
import dev.domus.cp.domain.VpsEntity;
import dev.domus.cp.domain.VpsStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Ends a running action and settles its server: the one place that knows which reservations an outcome keeps or
 * gives back, used for outcomes the host reports ({@link HostEventService}) and for actions the sweeper gives up
 * ({@link ActionService#expire}). Callers hold the server's row lock and have checked that the action is still the
 * server's running one, so each action ends exactly once.
 */
@ApplicationScoped
class ActionCompletion {
    private static final Logger LOG = Logger.getLogger(ActionCompletion.class);

    @Inject
    QuotaService quotas;
    @Inject
    Scheduler scheduler;

    @Transactional(Transactional.TxType.MANDATORY)
    void succeed(ActionEntity a, VpsEntity v) {
        ActionType type = ActionType.fromWire(a.type);
        applySuccess(type, a, v);
        v.status = type.onSuccess(VpsStatus.fromWire(a.fromStatus)).wire();
        a.status = "success";
        a.progress = 100;
        end(a, v);
    }

    @Transactional(Transactional.TxType.MANDATORY)
    void fail(ActionEntity a, VpsEntity v, String code, String message) {
        ActionType type = ActionType.fromWire(a.type);
        undo(type, a, v);
        v.status = type.onFailure(VpsStatus.fromWire(a.fromStatus)).wire();
        a.status = "error";
        a.errorCode = code;
        a.errorMessage = message;
        end(a, v);
    }

    private static void end(ActionEntity a, VpsEntity v) {
        a.finishedAt = UserService.now();
        v.currentActionId = null;
        v.updatedAt = a.finishedAt;
        LOG.infof("event=action.finished vps=%s action=%s type=%s result=%s status=%s code=%s", v.id, a.id, a.type,
                a.status, v.status, a.errorCode);
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

    /** Gives back what the action reserved when it started (a failed create or delete keeps the server's share). */
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
