// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import dev.domus.auth.PersonalTokenMechanism;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.TokenService;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Resolves a token secret to its user (blocking: one indexed lookup by hash). */
@ApplicationScoped
public class TokenIdentityProvider implements IdentityProvider<PersonalTokenMechanism.Request> {
    /** Attribute of the security identity that carries the resolved {@link Caller}. */
    public static final String CALLER = "domus.caller";

    @Inject
    TokenService tokens;

    @Override
    public Class<PersonalTokenMechanism.Request> getRequestType() {
        return PersonalTokenMechanism.Request.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(PersonalTokenMechanism.Request request, AuthenticationRequestContext context) {
        return context.runBlocking(() -> {
            Caller c = tokens.authenticate(request.secret())
                    .orElseThrow(() -> new AuthenticationFailedException("unknown, revoked or expired token"));
            QuarkusSecurityIdentity.Builder b = QuarkusSecurityIdentity.builder()
                    .setPrincipal(new QuarkusPrincipal(c.userId().toString()))
                    .addAttribute(CALLER, c);
            if (c.operator()) {
                b.addRole("operator");
            }
            return b.build();
        });
    }
}
