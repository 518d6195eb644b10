// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.ActionList;
import dev.domus.api.model.ActionRequest;
import dev.domus.api.model.VpsCreate;
import dev.domus.api.model.VpsList;
import dev.domus.api.model.VpsStatus;
import dev.domus.api.model.VpsUpdate;
import dev.domus.api.model.VpsWithAction;
import dev.domus.api.server.VpsApi;
import dev.domus.cp.domain.ActionType;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.IdempotencyService;
import dev.domus.cp.service.Page;
import dev.domus.cp.service.VpsService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Servers and their actions. */
@Authenticated
@jakarta.ws.rs.Path("")
public class VpsResource implements VpsApi {
    @Inject
    CurrentCaller current;
    @Inject
    BodyCheck check;
    @Inject
    VpsService vps;
    @Inject
    IdempotencyService idempotency;

    @Override
    public Response createVps(UUID projectId, VpsCreate b, String idempotencyKey) {
        check.valid(b);
        Caller c = current.get();
        IdempotencyService.Stored s = idempotency.execute(c, Optional.ofNullable(idempotencyKey),
                List.of("POST /v1/projects/" + projectId + "/vps", b), () -> {
                    VpsService.WithAction r = vps.create(c, projectId, new VpsService.NewVps(b.getName(), b.getPlan(),
                            b.getImage(), b.getRegion(), b.getSshKeys() == null ? List.of() : b.getSshKeys(),
                            Optional.ofNullable(b.getUserData()), b.getLabels()));
                    return new IdempotencyService.Result(202, new VpsWithAction().vps(Dto.vps(r.vps()))
                            .action(Dto.action(r.action())));
                });
        return Response.fromResponse(Responses.stored(s)).location(URI.create("/v1/vps/" + vpsIdOf(s.json()))).build();
    }

    private static String vpsIdOf(String json) {
        // The stored body is our own VpsWithAction; its first "id" is the server's.
        int i = json.indexOf("\"id\":\"");
        return i < 0 ? "" : json.substring(i + 6, json.indexOf('"', i + 6));
    }

    @Override
    public Response listVps(UUID projectId, Integer pageSize, String pageToken, String labelSelector, VpsStatus status,
                            String name, String region) {
        var p = vps.list(current.get(), projectId, new VpsService.Filter(Optional.ofNullable(labelSelector),
                        Optional.ofNullable(status).map(s -> dev.domus.cp.domain.VpsStatus.fromWire(s.toString())),
                        Optional.ofNullable(name), Optional.ofNullable(region)),
                Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new VpsList().items(p.items().stream().map(Dto::vps).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response getVps(UUID vpsId) {
        return Responses.ok(Dto.vps(vps.get(current.get(), vpsId)));
    }

    @Override
    public Response updateVps(UUID vpsId, VpsUpdate b) {
        check.valid(b);
        return Responses.ok(Dto.vps(vps.update(current.get(), vpsId, Optional.ofNullable(b.getName()),
                Optional.ofNullable(b.getLabels()))));
    }

    @Override
    public Response deleteVps(UUID vpsId) {
        return Response.accepted(Dto.action(vps.delete(current.get(), vpsId))).build();
    }

    @Override
    public Response runVpsAction(UUID vpsId, ActionRequest b, String idempotencyKey) {
        check.valid(b);
        Caller c = current.get();
        ActionType type = ActionType.fromWire(b.getType().toString());
        return Responses.idempotent(idempotency, c, idempotencyKey, "POST /v1/vps/" + vpsId + "/actions", b, 202,
                () -> Dto.action(vps.runAction(c, vpsId, type, new VpsService.ActionParams(
                        Optional.ofNullable(b.getPlan()), Optional.ofNullable(b.getImage()),
                        Optional.ofNullable(b.getSnapshotName())))));
    }

    @Override
    public Response listVpsEvents(UUID vpsId, Integer pageSize, String pageToken) {
        var p = vps.listEvents(current.get(), vpsId, Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new dev.domus.api.model.VpsEventList().items(p.items().stream().map(Dto::vpsEvent).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response listVpsActions(UUID vpsId, Integer pageSize, String pageToken) {
        var p = vps.listActions(current.get(), vpsId, Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new ActionList().items(p.items().stream().map(Dto::action).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }
}
