// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.HostEntity;
import dev.domus.cp.domain.HostState;
import dev.domus.cp.domain.Ids;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/** Hosts: registered by their agents (or operators), managed by operators, never visible to tenants. */
@ApplicationScoped
public class HostService {
    private static final Logger LOG = Logger.getLogger(HostService.class);

    @Inject
    Access access;
    @Inject
    CatalogService catalog;

    /** A registration: the host and whether it is new. */
    public record Registered(HostEntity host, boolean created) {
    }

    @Transactional
    public Registered register(Caller caller, String name, String region, int vcpus, long memoryMb, long diskGb,
                               Optional<String> agentVersion, Optional<IpPool.Network> network) {
        if (!caller.hostAgent() && !caller.operator()) {
            throw DomusException.forbidden("host agent or operator role required");
        }
        catalog.region(region);
        HostEntity h = HostEntity.find("name", name).firstResult();
        boolean created = h == null;
        if (created) {
            h = new HostEntity();
            h.id = Ids.next();
            h.name = name;
            h.state = HostState.UP.wire();
            h.createdAt = UserService.now();
        } else if (!h.region.equals(region)) {
            throw DomusException.conflict("illegal_transition", "host " + name + " is registered in region " + h.region);
        }
        h.region = region;
        h.capVcpus = vcpus;
        h.capMemoryMb = memoryMb;
        h.capDiskGb = diskGb;
        h.agentVersion = agentVersion.orElse(h.agentVersion);
        // A registration without a network (an operator pre-registering the host) keeps the one the agent reported.
        if (network.isPresent()) {
            h.vpsGateway = network.get().gateway();
            h.poolFirst = network.get().poolFirst();
            h.poolLast = network.get().poolLast();
        }
        h.lastHeartbeatAt = UserService.now();
        if (created) {
            h.persist();
        }
        Access.resource("host", h.id);
        LOG.infof("event=host.registered host=%s name=%s region=%s new=%s vcpus=%d memory_mb=%d disk_gb=%d vps_net=%s",
                h.id, name, region, created, vcpus, memoryMb, diskGb, h.vpsGateway);
        return new Registered(h, created);
    }

    public Page<HostEntity> list(Caller caller, Optional<UUID> after, int size) {
        access.requireOperator(caller);
        var q = after.isPresent() ? HostEntity.<HostEntity>find("id > ?1", Sort.by("id"), after.get())
                : HostEntity.<HostEntity>findAll(Sort.by("id"));
        return Page.of(q.range(0, size).list(), size, h -> h.id);
    }

    public HostEntity get(Caller caller, UUID id) {
        access.requireOperator(caller);
        HostEntity h = HostEntity.findById(id);
        if (h == null) {
            throw DomusException.notFound("host", id);
        }
        return h;
    }

    @Transactional
    public HostEntity setState(Caller caller, UUID id, HostState state) {
        access.requireOperator(caller);
        access.requireScope(caller, dev.domus.cp.domain.Scope.ADMIN);
        Access.resource("host", id);
        HostEntity h = HostEntity.findById(id);
        if (h == null) {
            throw DomusException.notFound("host", id);
        }
        LOG.infof("event=host.state host=%s from=%s to=%s", id, h.state, state.wire());
        h.state = state.wire();
        return h;
    }
}
