// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.infra.KafkaBus;
import dev.domus.api.events.HostEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Instant;
import org.jboss.logging.Logger;

/** Start-up order (adopt running domains, then take commands) and the periodic heartbeat and usage reports. */
@ApplicationScoped
public class AgentLifecycle {
    private static final Logger LOG = Logger.getLogger(AgentLifecycle.class);

    @Inject
    AgentConfig config;
    @Inject
    DomainSupervisor supervisor;
    @Inject
    KafkaBus kafka;
    @Inject
    UsageService usage;
    @Inject
    Reconciler reconciler;
    @Inject
    dev.domus.agent.infra.ControlPlaneClient controlPlane;
    @Inject
    UtilizationSampler utilization;

    /** True once the control plane accepted this host's registration (retried with each reconcile until then). */
    private volatile boolean registered;

    void onStart(@Observes StartupEvent ev) {
        long t0 = System.nanoTime();
        supervisor.adoptAll();
        // Register before taking commands: the control plane learns the VPS network (IP pool) and the detected
        // capacity before anything is placed by this agent's registration.
        register();
        kafka.start();
        LOG.infof("event=agent_started host=%s vps=%d registered=%s ms=%d", config.hostId(), supervisor.list().size(),
                registered, (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Registers with Keycloak client credentials and the detected (or configured) capacity; synchronized so the
     * start-up call and the first reconcile pass do not both register.
     */
    synchronized void register() {
        if (!controlPlane.configured() || registered) {
            return;
        }
        try {
            HostCapacity cap = HostCapacity.detect(config.capacity(), java.nio.file.Path.of("/proc"),
                    config.stateDir(), supervisor.list().stream().map(v -> v.record().diskGb()).toList(),
                    supervisor.standbyReserveMb());
            var id = controlPlane.register(cap.vcpus(), cap.memoryMb(), cap.diskGb(), config.gateway(),
                    config.poolFirst(), config.poolLast());
            registered = true;
            if (id.isPresent() && !id.get().equals(config.hostId().toString())) {
                // The name belongs to another id: commands for this agent's id would never be placed by the
                // scheduler, so say it loudly (the operator fixes host-name or host-id).
                LOG.errorf("event=register_id_mismatch host=%s name=%s registered_id=%s", config.hostId(),
                        config.hostName(), id.get());
            }
            LOG.infof("event=registered host=%s name=%s region=%s vcpus=%d memory_mb=%d disk_gb=%d gateway=%s",
                    config.hostId(), config.hostName(), config.region(), cap.vcpus(), cap.memoryMb(), cap.diskGb(),
                    config.gateway());
        } catch (dev.domus.agent.domain.AgentException e) {
            LOG.warnf("event=register_failed error=\"%s\" retry=next_reconcile", e.getMessage());
        }
    }

    @Scheduled(every = "${domus.agent.kafka.heartbeat-interval:10s}", delayed = "2s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void heartbeat() {
        var vpses = supervisor.list();
        int running = (int) vpses.stream().filter(v -> v.phase() == dev.domus.agent.domain.VpsPhase.RUNNING).count();
        var u = utilization.sample(vpses);
        kafka.publish(HostEvent.heartbeat(config.hostId(), running, u));
        LOG.debugf("event=heartbeat host=%s running=%d cpu_percent=%.1f rss_bytes=%d", config.hostId(), running,
                u.cpuPercent(), u.rssBytes());
    }

    /** Desired state from the control plane (first pass right after start, then every reconcile interval). */
    @Scheduled(every = "${domus.agent.reconcile-interval:30s}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void reconcile() {
        if (!controlPlane.configured()) {
            return;
        }
        register();
        try {
            reconciler.apply(controlPlane.desired());
        } catch (dev.domus.agent.domain.AgentException e) {
            LOG.warnf("event=reconcile_skipped error=\"%s\"", e.getMessage());
        }
    }

    @Scheduled(every = "${domus.agent.kafka.usage-interval:60s}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void usage() {
        usage.collect(Instant.now(), config.kafka().usageInterval()).forEach(kafka::publishUsage);
    }
}
