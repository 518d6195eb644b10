// SPDX-License-Identifier: Apache-2.0
package dev.domus.auth;

import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.BaseAuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/**
 * Accepts {@code Authorization: Bearer dpat_...} next to Keycloak JWTs: it runs before OIDC (higher priority) and
 * answers "no credentials of mine" for every other bearer token, so both work side by side. The secret goes to the
 * service's {@code IdentityProvider<PersonalTokenMechanism.Request>}. A service enables it with an empty
 * {@code @ApplicationScoped} subclass (CDI beans are discovered in the service, not here).
 */
public abstract class PersonalTokenMechanism implements HttpAuthenticationMechanism {
    /** Above the OIDC mechanism's default, so this one looks at the header first. */
    static final int PRIORITY = 3000;

    /** A personal access token presented as a bearer credential. */
    public static final class Request extends BaseAuthenticationRequest {
        private final String secret;

        public Request(String secret) {
            this.secret = secret;
        }

        public String secret() {
            return secret;
        }
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        return PersonalTokens.fromAuthorization(context.request().getHeader("Authorization"))
                .map(secret -> identityProviderManager.authenticate(new Request(secret)))
                .orElseGet(() -> Uni.createFrom().nullItem());
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return Uni.createFrom().item(new ChallengeData(401, "WWW-Authenticate", "Bearer"));
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(Request.class);
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }
}
