// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.HostEntity;
import dev.domus.cp.domain.ImageEntity;
import dev.domus.cp.domain.PlanEntity;
import dev.domus.cp.domain.ProjectEntity;
import dev.domus.cp.domain.SshKeyEntity;
import dev.domus.cp.domain.VpsEntity;
import dev.domus.cp.domain.VpsStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The desired state of one host for its agent (internal API, issue 8): every VPS placed there that is not being
 * deleted, with what the agent needs to run it. Power is "off" for servers that are off, stopping or in error
 * or being resized (the agent must not fight an operator), "on" otherwise; VPSes being deleted or deleted are
 * listed apart ({@link Desired#deleted}) as the only ones an agent may destroy. A fetch by the host's agent also
 * re-publishes the commands of running actions it has not acknowledged ({@link ActionService#republishFor}).
 */
@ApplicationScoped
public class DesiredStateService {
    @Inject
    ActionService actions;

    /** One VPS as the agent should run it. */
    public record DesiredVps(UUID vpsId, UUID organizationId, UUID projectId, String name, Optional<String> plan,
                             int vcpus, int memoryMb, int diskGb, String image, List<String> sshKeys, String userData,
                             boolean powerOn, long epoch, Optional<String> ip) { }

    /** What a host should run, and which VPSes placed there are (being) deleted: the only ones it may destroy. */
    public record Desired(List<DesiredVps> vps, List<UUID> deleted) { }

    /** Deleted servers stay in {@link Desired#deleted} this long (an agent down for longer keeps its orphans). */
    static final int DELETED_DAYS = 30;

    @Transactional
    public Desired desired(Caller caller, UUID hostId) {
        if (!caller.hostAgent() && !caller.operator()) {
            throw DomusException.forbidden("the desired state is for host agents and operators");
        }
        if (HostEntity.findById(hostId) == null) {
            throw DomusException.notFound("host", hostId);
        }
        if (caller.hostAgent()) {
            // Its agent is alive and reconciling: hand it again what it has not acknowledged (same command ids).
            actions.republishFor(hostId);
        }
        List<DesiredVps> out = new ArrayList<>();
        List<UUID> deleted = new ArrayList<>();
        for (VpsEntity v : VpsEntity.<VpsEntity>list("hostId = ?1 order by id", hostId)) {
            VpsStatus s = v.lifecycle();
            if (s == VpsStatus.DELETING || s == VpsStatus.DELETED) {
                if (s == VpsStatus.DELETING || v.updatedAt.isAfter(UserService.now().minusDays(DELETED_DAYS))) {
                    deleted.add(v.id);
                }
                continue;
            }
            ProjectEntity p = ProjectEntity.findById(v.projectId);
            ImageEntity img = v.imageId == null ? null : ImageEntity.findById(v.imageId);
            PlanEntity plan = v.planId == null ? null : PlanEntity.findById(v.planId);
            List<String> keys = new ArrayList<>();
            for (UUID k : v.sshKeyIds == null ? List.<UUID>of() : v.sshKeyIds) {
                SshKeyEntity e = SshKeyEntity.findById(k);
                if (e != null) {
                    keys.add(e.publicKey);
                }
            }
            // A resize runs on a stopped server: "on" here would let a reconcile pass start it mid-resize.
            boolean on = !(s == VpsStatus.OFF || s == VpsStatus.STOPPING || s == VpsStatus.ERROR
                    || s == VpsStatus.RESIZING);
            out.add(new DesiredVps(v.id, p == null ? null : p.organizationId, v.projectId, v.name,
                    Optional.ofNullable(plan).map(x -> x.name), v.vcpus, v.memoryMb, v.diskGb,
                    img == null ? "" : img.name, keys, v.userData == null ? "" : v.userData, on, v.epoch,
                    Optional.ofNullable(v.ipv4)));
        }
        return new Desired(out, deleted);
    }
}
