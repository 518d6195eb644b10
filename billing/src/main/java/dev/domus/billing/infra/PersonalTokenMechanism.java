// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import dev.domus.auth.PersonalTokens;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;

/**
 * Accepts {@code Authorization: Bearer dpat_...} (personal access tokens of the control plane) next to Keycloak
 * JWTs, with the shared mechanism of {@code auth-support}. The token is resolved by the control plane (billing
 * cannot validate it); the identity carries the credential for the per-organization check.
 */
@ApplicationScoped
public class PersonalTokenMechanism extends dev.domus.auth.PersonalTokenMechanism {
    /** Attribute of a security identity holding its {@link ControlPlaneAccess.Credential}. */
    public static final String CREDENTIAL = "domus.billing.credential";

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
                if (!PersonalTokens.wellFormed(request.secret())) {
                    throw new AuthenticationFailedException("malformed token");
                }
                ControlPlaneAccess.PersonalToken cred = new ControlPlaneAccess.PersonalToken(request.secret());
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
