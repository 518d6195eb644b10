// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.SshKeyCreate;
import dev.domus.api.model.SshKeyList;
import dev.domus.api.server.SshKeysApi;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.IdempotencyService;
import dev.domus.cp.service.Page;
import dev.domus.cp.service.SshKeyService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.UUID;

/** SSH keys. */
@Authenticated
@jakarta.ws.rs.Path("")
public class SshKeysResource implements SshKeysApi {
    @Inject
    CurrentCaller current;
    @Inject
    BodyCheck check;
    @Inject
    SshKeyService keys;
    @Inject
    IdempotencyService idempotency;

    @Override
    public Response createSshKey(UUID projectId, SshKeyCreate body, String idempotencyKey) {
        check.valid(body);
        Caller c = current.get();
        return Responses.idempotent(idempotency, c, idempotencyKey, "POST /v1/projects/" + projectId + "/ssh-keys",
                body, 201, () -> Dto.sshKey(keys.create(c, projectId, body.getName(), body.getPublicKey(),
                        body.getLabels())));
    }

    @Override
    public Response listSshKeys(UUID projectId, Integer pageSize, String pageToken) {
        var p = keys.list(current.get(), projectId, Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new SshKeyList().items(p.items().stream().map(Dto::sshKey).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response getSshKey(UUID sshKeyId) {
        return Responses.ok(Dto.sshKey(keys.get(current.get(), sshKeyId)));
    }

    @Override
    public Response deleteSshKey(UUID sshKeyId) {
        keys.delete(current.get(), sshKeyId);
        return Responses.noContent();
    }
}
