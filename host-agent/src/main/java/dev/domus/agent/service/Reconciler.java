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
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Drives this host towards the control plane's desired state: creates missing VPSes, aligns power (only when
 * the desired epoch is not older than what the agent applied), deletes VPSes the control plane no longer places
 * here. Commands on Kafka are the fast path; this is the safety net for missed messages and agent restarts.
 */
@ApplicationScoped
public class Reconciler {
    private static final Logger LOG = Logger.getLogger(Reconciler.class);

    /** What one pass did. */
    public record Pass(int created, int started, int stopped, int deleted, int failed) { }

    private final DomainSupervisor supervisor;
    private final HostNetwork net;

    @Inject
    public Reconciler(DomainSupervisor supervisor, HostNetwork net) {
        this.supervisor = supervisor;
        this.net = net;
    }

    public synchronized Pass apply(DesiredState desired) {
        int created = 0;
        int started = 0;
        int stopped = 0;
        int deleted = 0;
        int failed = 0;
        Map<UUID, DesiredVps> want = new HashMap<>();
        for (DesiredVps d : desired.getVps()) {
            want.put(d.getVpsId(), d);
        }
        for (DesiredVps d : want.values()) {
            boolean on = d.getPower() == DesiredVps.PowerEnum.ON;
            try {
                Optional<DomainSupervisor.VpsStatus> cur = supervisor.get(d.getVpsId());
                if (cur.isEmpty()) {
                    supervisor.create(record(d, on));
                    created++;
                    continue;
                }
                VpsRecord r = cur.get().record();
                if (d.getEpoch() < r.epoch()) {
                    continue; // the agent already applied a newer decision
                }
                VpsPhase phase = cur.get().phase();
                if (on && phase == VpsPhase.OFF) {
                    supervisor.start(d.getVpsId(), d.getEpoch());
                    started++;
                } else if (!on && (phase == VpsPhase.RUNNING || phase == VpsPhase.RESTARTING)) {
                    supervisor.stop(d.getVpsId(), d.getEpoch());
                    stopped++;
                }
            } catch (AgentException e) {
                failed++;
                LOG.warnf("event=reconcile_failed vps=%s error=\"%s\"", d.getVpsId(), e.getMessage());
            }
        }
        for (DomainSupervisor.VpsStatus v : supervisor.list()) {
            if (!want.containsKey(v.record().vpsId())) {
                try {
                    supervisor.delete(v.record().vpsId());
                    deleted++;
                } catch (AgentException e) {
                    failed++;
                    LOG.warnf("event=reconcile_delete_failed vps=%s error=\"%s\"", v.record().vpsId(), e.getMessage());
                }
            }
        }
        Pass p = new Pass(created, started, stopped, deleted, failed);
        if (created + started + stopped + deleted + failed > 0) {
            LOG.infof("event=reconciled created=%d started=%d stopped=%d deleted=%d failed=%d", created, started,
                    stopped, deleted, failed);
        }
        return p;
    }

    private VpsRecord record(DesiredVps d, boolean on) {
        String ip = d.getIp() == null || d.getIp().isEmpty() ? net.allocate(supervisor.usedAddresses()) : d.getIp();
        return new VpsRecord(VpsRecord.VERSION, d.getVpsId(), CommandService.hostname(d.getName()), d.getVcpus(),
                d.getMemoryMb(), d.getDiskGb(), d.getImage(), d.getSshKeys(), d.getUserData(), ip, net.gateway(),
                VpsRecord.macFor(d.getVpsId()), Optional.ofNullable(d.getOrganizationId()),
                Optional.ofNullable(d.getProjectId()), Optional.ofNullable(d.getPlan()), on, d.getEpoch());
    }
}
