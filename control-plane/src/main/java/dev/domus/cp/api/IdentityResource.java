// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.Me;
import dev.domus.api.model.TokenCreate;
import dev.domus.api.model.TokenCreated;
import dev.domus.api.model.TokenList;
import dev.domus.api.server.IdentityApi;
import dev.domus.cp.domain.Scope;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.IdempotencyService;
import dev.domus.cp.service.Page;
import dev.domus.cp.service.TokenService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** {@code /v1/me} and {@code /v1/tokens}. */
@Authenticated
@jakarta.ws.rs.Path("")
public class IdentityResource implements IdentityApi {
    @Inject
    CurrentCaller current;
    @Inject
    BodyCheck check;
    @Inject
    TokenService tokens;
    @Inject
    IdempotencyService idempotency;

    @Override
    public Response getMe() {
        Caller c = current.get();
        return Responses.ok(new Me().userId(c.userId()).email(c.email()).operator(c.operator())
                .auth(c.kind() == Caller.Kind.TOKEN ? Me.AuthEnum.TOKEN : Me.AuthEnum.OIDC)
                .scopes(c.scopes().stream().map(s -> dev.domus.api.model.Scope.fromValue(s.wire())).toList()));
    }

    @Override
    public Response createToken(TokenCreate body, String idempotencyKey) {
        check.valid(body);
        Caller c = current.get();
        Set<Scope> scopes = EnumSet.noneOf(Scope.class);
        body.getScopes().forEach(s -> scopes.add(Scope.fromWire(s.toString())));
        return Responses.stored(idempotency.execute(c, Optional.ofNullable(idempotencyKey),
                List.of("POST /v1/tokens", body), () -> {
                    TokenService.Created t = tokens.create(c, body.getName(), scopes,
                            Optional.ofNullable(body.getExpiresInDays()));
                    return new IdempotencyService.Result(201, new TokenCreated().token(Dto.token(t.token()))
                            .secret(t.secret()));
                }));
    }

    @Override
    public Response listTokens(Integer pageSize, String pageToken) {
        Page<dev.domus.cp.domain.TokenEntity> p = tokens.list(current.get(), Page.cursor(pageToken), Page.size(pageSize));
        return Responses.ok(new TokenList().items(p.items().stream().map(Dto::token).toList())
                .nextPageToken(p.nextPageToken().orElse(null)));
    }

    @Override
    public Response revokeToken(UUID tokenId) {
        tokens.revoke(current.get(), tokenId);
        return Responses.noContent();
    }
}
