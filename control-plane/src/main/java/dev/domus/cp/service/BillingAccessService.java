// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.Role;
import dev.domus.cp.domain.Scope;
import dev.domus.cp.domain.UserEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.EnumSet;
import java.util.Optional;
import java.util.UUID;

/**
 * Answers the billing service's question "may this caller read (or manage) the billing of organization X?" with
 * the control plane's own membership, role and token-scope rules ({@link Access}), so that billing never keeps a
 * copy of tenancy. Billing validates Keycloak JWTs itself and sends their subject; personal access tokens only the
 * control plane can resolve, so billing sends the secret.
 */
@ApplicationScoped
public class BillingAccessService {
    /** What billing may do with an organization's billing: read it, or change its settings. */
    public enum Need { READ, MANAGE }

    /** The outcome; {@code NOT_FOUND} also covers "not authenticated" so billing can answer 404 without a leak. */
    public enum Decision { ALLOWED, NOT_FOUND, FORBIDDEN }

    /** The answer for one caller and organization. */
    public record Answer(boolean authenticated, boolean operator, Optional<UUID> userId, Decision decision,
                         Optional<String> reason) {
    }

    @Inject
    TokenService tokens;
    @Inject
    Access access;

    /**
     * Exactly one of {@code oidcSubject} and {@code personalToken}; without {@code organization} only the caller is
     * resolved (authenticated or not, operator or not).
     */
    @Transactional
    public Answer check(Optional<String> oidcSubject, Optional<String> personalToken, Optional<UUID> organization,
            Need need) {
        if (oidcSubject.isPresent() == personalToken.isPresent()) {
            throw DomusException.invalid("oidc_subject", "give exactly one of oidc_subject and personal_token");
        }
        Caller caller;
        if (personalToken.isPresent()) {
            Optional<Caller> c = tokens.authenticate(personalToken.get());
            if (c.isEmpty()) {
                return new Answer(false, false, Optional.empty(), Decision.NOT_FOUND,
                        Optional.of("unknown, revoked or expired token"));
            }
            caller = c.get();
        } else {
            UserEntity u = UserEntity.find("subject", oidcSubject.get()).firstResult();
            if (u == null) {
                // A valid login that never reached the control plane is a member of nothing.
                return new Answer(true, false, Optional.empty(),
                        organization.isPresent() ? Decision.NOT_FOUND : Decision.ALLOWED,
                        Optional.of("no memberships"));
            }
            caller = new Caller(u.id, u.email, u.operator, false, Caller.Kind.OIDC, EnumSet.allOf(Scope.class),
                    Optional.empty());
        }
        if (organization.isEmpty()) {
            return new Answer(true, caller.operator(), Optional.of(caller.userId()), Decision.ALLOWED,
                    Optional.empty());
        }
        try {
            if (need == Need.MANAGE) {
                access.requireOrg(caller, organization.get(), Role.ADMIN, Scope.WRITE);
            } else {
                access.requireOrg(caller, organization.get(), Role.VIEWER, Scope.READ);
            }
            return new Answer(true, caller.operator(), Optional.of(caller.userId()), Decision.ALLOWED,
                    Optional.empty());
        } catch (DomusException e) {
            Decision d = e.kind() == DomusException.Kind.FORBIDDEN ? Decision.FORBIDDEN : Decision.NOT_FOUND;
            return new Answer(true, caller.operator(), Optional.of(caller.userId()), d, Optional.of(e.getMessage()));
        }
    }
}
