// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.HostList;
import dev.domus.api.model.HostRegister;
import dev.domus.api.model.HostUpdate;
import dev.domus.api.server.HostsApi;
import dev.domus.cp.domain.HostState;
import dev.domus.cp.service.HostService;
import dev.domus.cp.service.Page;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.UUID;

/** Hosts (operators and host agents). */
@Authenticated
// Class-level @Path is not inherited from the generated interface: repeat it.
@jakarta.ws.rs.Path("/v1/hosts")
public class HostsResource implements HostsApi {
    @Inject
    CurrentCaller current;
    @Inject
    BodyCheck check;
    @Inject
    HostService hosts;

    @Override
    public Response registerHost(HostRegister b) {
        check.valid(b);
        HostService.Registered r = hosts.register(current.get(), b.getName(), b.getRegion(), b.getCapacity().getVcpus(),
                b.getCapacity().getMemoryMb(), b.getCapacity().getDiskGb(), Optional.ofNullable(b.getAgentVersion()),
                Optional.ofNullable(b.getVpsNetwork()).map(n -> new dev.domus.cp.service.IpPool.Network(n.getGateway(),
                        n.getPoolFirst(), n.getPoolLast())));
        return Response.status(r.created() ? 201 : 200).type(MediaType.APPLICATION_JSON_TYPE).entity(Dto.host(r.host()))
                .build();
    }

    @Override
    public Response listHosts(Integer pageSize, String pageToken) {
        var p = hosts.list(current.get(), Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new HostList().items(p.items().stream().map(Dto::host).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response getHost(UUID hostId) {
        return Responses.ok(Dto.host(hosts.get(current.get(), hostId)));
    }

    @Override
    public Response updateHost(UUID hostId, HostUpdate b) {
        check.valid(b);
        return Responses.ok(Dto.host(hosts.setState(current.get(), hostId, HostState.fromWire(b.getState().toString()))));
    }
}
