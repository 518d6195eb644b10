// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.api;

import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.agent.infra.KafkaBus;
import dev.domus.agent.service.DomainSupervisor;
import dev.domus.agent.service.HostNetwork;
import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Local operator API of the agent (bound to loopback by default). */
@Path("/agent/v1")
@Produces(MediaType.APPLICATION_JSON)
public class AgentResource {
    @Inject
    DomainSupervisor supervisor;
    @Inject
    HostNetwork net;
    @Inject
    KafkaBus kafka;

    /** Create request: the spec plus optional address and billing owner. */
    public record CreateVps(String hostname, int vcpus, int memoryMb, int diskGb, String image, List<String> sshKeys,
                            String userData, Optional<String> ip, Optional<UUID> organizationId,
                            Optional<UUID> projectId, Optional<String> plan) { }

    public record VpsView(UUID vpsId, String hostname, String state, String reason, long runnerPid, int restarts,
                          String ip, String tap, String domain) {
        static VpsView of(DomainSupervisor.VpsStatus s) {
            VpsRecord r = s.record();
            return new VpsView(r.vpsId(), r.hostname(), s.phase().name().toLowerCase(java.util.Locale.ROOT),
                    s.reason(), s.runnerPid(), s.restarts(), r.ip(), r.tapName(), r.domainName());
        }
    }

    @GET
    @Path("/status")
    public Map<String, Object> status() {
        return Map.of("kafka_assigned", kafka.isAssigned(), "vps", supervisor.list().size(),
                "pool_idle", supervisor.idleStandbys());
    }

    @GET
    @Path("/vps")
    public List<VpsView> list() {
        return supervisor.list().stream().map(VpsView::of).toList();
    }

    @GET
    @Path("/vps/{id}")
    public VpsView get(@PathParam("id") UUID id) {
        return supervisor.get(id).map(VpsView::of).orElseThrow(() ->
                new AgentException(AgentException.NOT_FOUND, "VPS " + id + " is not on this host"));
    }

    @PUT
    @Path("/vps/{id}")
    public VpsView create(@PathParam("id") UUID id, CreateVps req) {
        if (req == null) {
            throw new AgentException(AgentException.BAD_RECORD, "request body required");
        }
        String ip = req.ip() == null || req.ip().isEmpty() ? net.allocate(supervisor.usedAddresses()) : req.ip().get();
        VpsRecord r = new VpsRecord(VpsRecord.VERSION, id, req.hostname(), req.vcpus(), req.memoryMb(), req.diskGb(),
                req.image(), req.sshKeys(), req.userData(), ip, net.gateway(), VpsRecord.macFor(id),
                req.organizationId(), req.projectId(), req.plan(), true, 0);
        return VpsView.of(supervisor.create(r));
    }

    @POST
    @Path("/vps/{id}/{action}")
    public VpsView action(@PathParam("id") UUID id, @PathParam("action") String action) {
        return VpsView.of(switch (action) {
            case "start" -> supervisor.start(id, 0);
            case "stop" -> supervisor.stop(id, 0);
            case "shutdown" -> supervisor.shutdown(id, 0);
            case "reboot" -> supervisor.reboot(id, 0);
            default -> throw new AgentException(AgentException.BAD_RECORD, "unknown action '" + action
                    + "' (start, stop, shutdown, reboot)");
        });
    }

    @DELETE
    @Path("/vps/{id}")
    public Map<String, Object> delete(@PathParam("id") UUID id) {
        supervisor.delete(id);
        return Map.of("deleted", id.toString());
    }
}
