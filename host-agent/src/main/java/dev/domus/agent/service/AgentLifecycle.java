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

    void onStart(@Observes StartupEvent ev) {
        long t0 = System.nanoTime();
        supervisor.adoptAll();
        kafka.start();
        if (controlPlane.configured()) {
            try {
                var cap = config.capacity();
                controlPlane.register(cap.vcpus().orElse(Runtime.getRuntime().availableProcessors()),
                        cap.memoryMb().orElse(Runtime.getRuntime().maxMemory() / (1024 * 1024)),
                        cap.diskGb().orElse(100L));
            } catch (dev.domus.agent.domain.AgentException e) {
                LOG.warnf("event=register_failed error=\"%s\"", e.getMessage());
            }
        }
        LOG.infof("event=agent_started host=%s vps=%d ms=%d", config.hostId(), supervisor.list().size(),
                (System.nanoTime() - t0) / 1_000_000);
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
