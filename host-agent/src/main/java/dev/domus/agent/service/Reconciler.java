// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsPhase;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.api.internal.model.DesiredState;
import dev.domus.api.internal.model.DesiredVps;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Drives this host towards the control plane's desired state: creates missing VPSes, aligns power (only when
 * the desired epoch is not older than what the agent applied), keeps owner and plan current for usage events, and
 * destroys a VPS only when the control plane lists it as deleted. A VPS that is in neither list (e.g. the control
 * plane lost track of it, or answered with a partial state) is left running and logged: destroying a customer's
 * server on an absence is not undoable. Commands on Kafka are the fast path; this is the safety net for missed
 * messages and agent restarts.
 */
@ApplicationScoped
public class Reconciler {
    private static final Logger LOG = Logger.getLogger(Reconciler.class);

    /** What one pass did. */
    public record Pass(int created, int started, int stopped, int deleted, int failed, int orphans) { }

    /** What the reconciler needs of this host: the supervisor's use cases and the local address pool. */
    interface Host {
        Optional<DomainSupervisor.VpsStatus> get(UUID vpsId);

        List<DomainSupervisor.VpsStatus> list();

        void create(VpsRecord rec);

        void start(UUID vpsId, long epoch);

        void stop(UUID vpsId, long epoch);

        void delete(UUID vpsId);

        void annotate(UUID vpsId, Optional<UUID> org, Optional<UUID> project, Optional<String> plan);

        /** A free local-pool address with prefix (when the control plane assigned none). */
        String allocateAddress();

        String gateway();
    }

    private final Host host;

    @Inject
    public Reconciler(DomainSupervisor supervisor, HostNetwork net) {
        this(new Host() {
            @Override
            public Optional<DomainSupervisor.VpsStatus> get(UUID vpsId) {
                return supervisor.get(vpsId);
            }

            @Override
            public List<DomainSupervisor.VpsStatus> list() {
                return supervisor.list();
            }

            @Override
            public void create(VpsRecord rec) {
                supervisor.create(rec);
            }

            @Override
            public void start(UUID vpsId, long epoch) {
                supervisor.start(vpsId, epoch);
            }

            @Override
            public void stop(UUID vpsId, long epoch) {
                supervisor.stop(vpsId, epoch);
            }

            @Override
            public void delete(UUID vpsId) {
                supervisor.delete(vpsId);
            }

            @Override
            public void annotate(UUID vpsId, Optional<UUID> org, Optional<UUID> project, Optional<String> plan) {
                supervisor.annotate(vpsId, org, project, plan);
            }

            @Override
            public String allocateAddress() {
                return net.allocate(supervisor.usedAddresses());
            }

            @Override
            public String gateway() {
                return net.gateway();
            }
        });
    }

    Reconciler(Host host) {
        this.host = host;
    }

    public synchronized Pass apply(DesiredState desired) {
        int created = 0;
        int started = 0;
        int stopped = 0;
        int deleted = 0;
        int failed = 0;
        int orphans = 0;
        Map<UUID, DesiredVps> want = new HashMap<>();
        for (DesiredVps d : desired.getVps()) {
            want.put(d.getVpsId(), d);
        }
        Set<UUID> gone = new HashSet<>(desired.getDeleted() == null ? List.of() : desired.getDeleted());
        for (DesiredVps d : want.values()) {
            boolean on = d.getPower() == DesiredVps.PowerEnum.ON;
            try {
                Optional<DomainSupervisor.VpsStatus> cur = host.get(d.getVpsId());
                if (cur.isEmpty()) {
                    host.create(record(d, on));
                    created++;
                    continue;
                }
                VpsRecord r = cur.get().record();
                if (d.getEpoch() < r.epoch()) {
                    continue; // the agent already applied a newer decision
                }
                Optional<UUID> org = Optional.ofNullable(d.getOrganizationId());
                Optional<UUID> project = Optional.ofNullable(d.getProjectId());
                Optional<String> plan = Optional.ofNullable(d.getPlan());
                if (!r.withOwner(org, project, plan).equals(r)) {
                    host.annotate(d.getVpsId(), org, project, plan);
                }
                VpsPhase phase = cur.get().phase();
                if (on && phase == VpsPhase.OFF) {
                    host.start(d.getVpsId(), d.getEpoch());
                    started++;
                } else if (!on && (phase == VpsPhase.RUNNING || phase == VpsPhase.RESTARTING)) {
                    host.stop(d.getVpsId(), d.getEpoch());
                    stopped++;
                }
            } catch (AgentException e) {
                failed++;
                LOG.warnf("event=reconcile_failed vps=%s error=\"%s\"", d.getVpsId(), e.getMessage());
            }
        }
        for (DomainSupervisor.VpsStatus v : host.list()) {
            UUID id = v.record().vpsId();
            if (want.containsKey(id)) {
                continue;
            }
            if (!gone.contains(id)) {
                orphans++;
                LOG.warnf("event=reconcile_orphan vps=%s phase=%s action=kept reason=\"not in the desired state and "
                        + "not listed as deleted\"", id, v.phase().wire());
                continue;
            }
            try {
                host.delete(id);
                deleted++;
            } catch (AgentException e) {
                failed++;
                LOG.warnf("event=reconcile_delete_failed vps=%s error=\"%s\"", id, e.getMessage());
            }
        }
        Pass p = new Pass(created, started, stopped, deleted, failed, orphans);
        if (created + started + stopped + deleted + failed > 0) {
            LOG.infof("event=reconciled created=%d started=%d stopped=%d deleted=%d failed=%d orphans=%d", created,
                    started, stopped, deleted, failed, orphans);
        }
        return p;
    }

    private VpsRecord record(DesiredVps d, boolean on) {
        String ip = d.getIp() == null || d.getIp().isEmpty() ? host.allocateAddress() : d.getIp();
        return new VpsRecord(VpsRecord.VERSION, d.getVpsId(), CommandService.hostname(d.getName()), d.getVcpus(),
                d.getMemoryMb(), d.getDiskGb(), d.getImage(), d.getSshKeys(), d.getUserData(), ip, host.gateway(),
                VpsRecord.macFor(d.getVpsId()), Optional.ofNullable(d.getOrganizationId()),
                Optional.ofNullable(d.getProjectId()), Optional.ofNullable(d.getPlan()), on, d.getEpoch());
    }
}
