// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.domain.VpsPhase;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.api.events.UsageEvent;
import dev.domus.api.events.UsageMetric;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-period usage of every VPS that knows its organization and project: {@code vps_minutes} (with plan and
 * state) and {@code transfer_bytes} (tap rx+tx since the previous period). Periods are aligned to the interval,
 * and ids are {@link UsageEvent#idFor} of VPS, metric and period, so a re-sent period is the same event.
 */
@ApplicationScoped
public class UsageService {
    private final DomainSupervisor supervisor;
    private final Map<UUID, Long> lastBytes = new ConcurrentHashMap<>();

    @Inject
    public UsageService(DomainSupervisor supervisor) {
        this.supervisor = supervisor;
    }

    /** The usage of the period that ends at the interval boundary at or before {@code now}. */
    public List<UsageEvent> collect(Instant now, Duration interval) {
        long ms = interval.toMillis();
        Instant end = Instant.ofEpochMilli(now.toEpochMilli() / ms * ms);
        Instant start = end.minus(interval);
        List<UsageEvent> out = new ArrayList<>();
        for (DomainSupervisor.VpsStatus v : supervisor.list()) {
            VpsRecord r = v.record();
            if (r.organizationId().isEmpty() || r.projectId().isEmpty()) {
                continue; // not billable without an owner (standalone test VPS)
            }
            boolean running = v.phase() == VpsPhase.RUNNING;
            out.add(new UsageEvent(1, UsageEvent.idFor(r.vpsId(), UsageMetric.VPS_MINUTES, start, end),
                    r.organizationId().get(), r.projectId().get(), r.vpsId(), UsageMetric.VPS_MINUTES,
                    running ? Math.max(1, interval.toMinutes()) : 0, r.plan(), Optional.of(v.phase().wire()), start,
                    end));
            long[] c = HostNetwork.tapCounters(r.tapName());
            long total = c[0] + c[1];
            Long prev = lastBytes.put(r.vpsId(), total);
            long delta = prev == null || total < prev ? 0 : total - prev;
            out.add(new UsageEvent(1, UsageEvent.idFor(r.vpsId(), UsageMetric.TRANSFER_BYTES, start, end),
                    r.organizationId().get(), r.projectId().get(), r.vpsId(), UsageMetric.TRANSFER_BYTES, delta,
                    r.plan(), Optional.empty(), start, end));
        }
        return out;
    }
}
