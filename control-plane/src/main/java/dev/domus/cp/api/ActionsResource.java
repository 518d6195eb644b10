// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.server.ActionsApi;
import dev.domus.cp.service.VpsService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.UUID;

/** {@code GET /v1/actions/{id}}. */
@Authenticated
// Class-level @Path is not inherited from the generated interface: repeat it.
@jakarta.ws.rs.Path("/v1/actions/{action_id}")
public class ActionsResource implements ActionsApi {
    @Inject
    CurrentCaller current;
    @Inject
    VpsService vps;

    @Override
    public Response getAction(UUID actionId) {
        return Responses.ok(Dto.action(vps.getAction(current.get(), actionId)));
    }
}
