// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.HostEntity;
import dev.domus.cp.domain.HostState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Chooses a host for a server and reserves its capacity in the caller's transaction. Ranking uses a snapshot of the
 * hosts; the reservation is a conditional UPDATE so two parallel placements can never overcommit a host (the loser
 * falls through to the next candidate).
 */
@ApplicationScoped
public class Scheduler {
    private static final Logger LOG = Logger.getLogger(Scheduler.class);

    @Inject
    EntityManager em;
    @Inject
    SchedulerConfig config;

    @Transactional(Transactional.TxType.MANDATORY)
    public UUID place(Placement.Request r) {
        List<HostEntity> hosts = HostEntity.list("region = ?1 and state = ?2", r.region(), HostState.UP.wire());
        List<Placement.Candidate> cands = new ArrayList<>(hosts.size());
        for (HostEntity h : hosts) {
            cands.add(new Placement.Candidate(h.id, h.region, true, h.capVcpus, h.capMemoryMb, h.capDiskGb,
                    h.allocVcpus, h.allocMemoryMb, h.allocDiskGb));
        }
        for (Placement.Candidate c : Placement.rank(cands, r, config.strategy(), config.memoryWeight())) {
            if (reserve(c.id(), r.vcpus(), r.memoryMb(), r.diskGb(), 1)) {
                LOG.debugf("event=scheduler.placed host=%s region=%s strategy=%s", c.id(), r.region(), config.strategy());
                return c.id();
            }
        }
        throw new DomusException(DomusException.Kind.UNAVAILABLE, "no_capacity",
                "no host in region " + r.region() + " has room for " + r.vcpus() + " vCPUs / " + r.memoryMb() + " MiB");
    }

    /** Adds (or with negative amounts removes) an allocation; false when it would exceed the host's capacity. */
    @Transactional(Transactional.TxType.MANDATORY)
    public boolean reserve(UUID hostId, int vcpus, long memoryMb, long diskGb, int count) {
        return em.createNativeQuery("UPDATE hosts SET alloc_vcpus = alloc_vcpus + ?2, alloc_memory_mb = alloc_memory_mb + ?3, "
                        + "alloc_disk_gb = alloc_disk_gb + ?4, vps_count = vps_count + ?5 WHERE id = ?1 "
                        + "AND alloc_vcpus + ?2 <= cap_vcpus AND alloc_memory_mb + ?3 <= cap_memory_mb "
                        + "AND alloc_disk_gb + ?4 <= cap_disk_gb")
                .setParameter(1, hostId).setParameter(2, vcpus).setParameter(3, memoryMb).setParameter(4, diskGb)
                .setParameter(5, count).executeUpdate() == 1;
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void release(UUID hostId, int vcpus, long memoryMb, long diskGb) {
        em.createNativeQuery("UPDATE hosts SET alloc_vcpus = GREATEST(0, alloc_vcpus - ?2), "
                        + "alloc_memory_mb = GREATEST(0, alloc_memory_mb - ?3), alloc_disk_gb = GREATEST(0, alloc_disk_gb - ?4), "
                        + "vps_count = GREATEST(0, vps_count - 1) WHERE id = ?1")
                .setParameter(1, hostId).setParameter(2, vcpus).setParameter(3, memoryMb).setParameter(4, diskGb)
                .executeUpdate();
    }
}
