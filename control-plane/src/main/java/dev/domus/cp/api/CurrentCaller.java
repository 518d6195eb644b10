// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.Scope;
import dev.domus.cp.domain.UserEntity;
import dev.domus.cp.infra.TokenIdentityProvider;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.UserService;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * The {@link Caller} of the current request: from a personal access token (resolved by the token mechanism) or
 * from an OIDC JWT (the user is created or updated from its claims on first use in the request).
 */
@RequestScoped
public class CurrentCaller {
    @Inject
    SecurityIdentity identity;
    @Inject
    UserService users;

    private Caller caller;

    public Caller get() {
        if (caller != null) {
            return caller;
        }
        if (identity.isAnonymous()) {
            throw new DomusException(DomusException.Kind.UNAUTHENTICATED, "unauthenticated", "authentication required");
        }
        Caller fromToken = identity.getAttribute(TokenIdentityProvider.CALLER);
        if (fromToken != null) {
            caller = fromToken;
            return caller;
        }
        boolean operator = identity.hasRole("operator");
        boolean hostAgent = identity.hasRole("host-agent");
        String subject = identity.getPrincipal().getName();
        String email = null;
        if (identity.getPrincipal() instanceof JsonWebToken jwt) {
            subject = jwt.getSubject() != null ? jwt.getSubject() : subject;
            email = jwt.getClaim("email");
        }
        if (email == null && hostAgent) {
            // Service accounts have no e-mail and no tenancy; they are known by their subject only.
            caller = new Caller(UUID.nameUUIDFromBytes(subject.getBytes(StandardCharsets.UTF_8)), "service:" + subject,
                    operator, true, Caller.Kind.OIDC, EnumSet.allOf(Scope.class), Optional.empty());
            return caller;
        }
        if (email == null) {
            throw new DomusException(DomusException.Kind.UNAUTHENTICATED, "unauthenticated",
                    "the identity token carries no e-mail claim");
        }
        UserEntity u = users.resolveOidc(subject, email, operator);
        caller = new Caller(u.id, u.email, operator, hostAgent, Caller.Kind.OIDC, EnumSet.allOf(Scope.class),
                Optional.empty());
        return caller;
    }

    /** The caller if this request has already resolved one (for the audit log). */
    Optional<Caller> peek() {
        return Optional.ofNullable(caller);
    }
}
