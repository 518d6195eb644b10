// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.BaseAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.Set;

/**
 * Accepts {@code Authorization: Bearer dpat_...} (personal access tokens of the control plane) next to Keycloak
 * JWTs: this mechanism runs before OIDC and leaves every other bearer token to it. The token is resolved by the
 * control plane (billing cannot validate it); the identity carries the credential for the per-organization check.
 */
@ApplicationScoped
public class PersonalTokenMechanism implements HttpAuthenticationMechanism {
    /** Prefix of the control plane's personal access tokens. */
    static final String PREFIX = "dpat_";
    /** Attribute of a security identity holding its {@link ControlPlaneAccess.Credential}. */
    public static final String CREDENTIAL = "domus.billing.credential";
    private static final String BEARER = "Bearer ";

    /** The credential request this mechanism hands to {@link Provider}. */
    static final class Request extends BaseAuthenticationRequest {
        final String secret;

        Request(String secret) {
            this.secret = secret;
        }
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        String header = context.request().getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Uni.createFrom().nullItem();
        }
        String secret = header.substring(BEARER.length()).strip();
        if (!secret.startsWith(PREFIX)) {
            return Uni.createFrom().nullItem();
        }
        return identityProviderManager.authenticate(new Request(secret));
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
        return 3000;
    }

    /** Resolves a token through the control plane (blocking HTTP, cached by {@link ControlPlaneAccess}). */
    @ApplicationScoped
    public static class Provider implements IdentityProvider<Request> {
        @Inject
        ControlPlaneAccess controlPlane;

        @Override
        public Class<Request> getRequestType() {
            return Request.class;
        }

        @Override
        public Uni<SecurityIdentity> authenticate(Request request, AuthenticationRequestContext context) {
            return context.runBlocking(() -> {
                if (request.secret.length() > 100) {
                    throw new AuthenticationFailedException("malformed token");
                }
                ControlPlaneAccess.PersonalToken cred = new ControlPlaneAccess.PersonalToken(request.secret);
                ControlPlaneAccess.Answer a = controlPlane.check(cred, Optional.empty(), ControlPlaneAccess.Need.READ);
                if (!a.authenticated() || a.userId().isEmpty()) {
                    throw new AuthenticationFailedException("unknown, revoked or expired token");
                }
                QuarkusSecurityIdentity.Builder b = QuarkusSecurityIdentity.builder()
                        .setPrincipal(new QuarkusPrincipal("user:" + a.userId().get()))
                        .addAttribute(CREDENTIAL, cred);
                if (a.operator()) {
                    b.addRole("operator");
                }
                return b.build();
            });
        }
    }
}
