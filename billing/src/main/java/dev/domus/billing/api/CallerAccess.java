// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.api;

import dev.domus.billing.infra.ControlPlaneAccess;
import dev.domus.billing.infra.PersonalTokenMechanism;
import dev.domus.billing.service.BillingException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

/**
 * Authorization of one request. Operator routes need the realm role {@code operator} (from the Keycloak JWT, or the
 * control plane's operator flag for a personal token). Tenant routes are open to operators and otherwise to the
 * members the control plane names; a non-member gets 404 whether the organization exists or not.
 */
@RequestScoped
public class CallerAccess {
    private static final Logger LOG = Logger.getLogger(CallerAccess.class);

    @Inject
    SecurityIdentity identity;

    @Inject
    ControlPlaneAccess controlPlane;

    /** Who is calling, for audit fields ("actor") and logs. */
    public String actor() {
        return authenticated().getPrincipal().getName();
    }

    public void requireOperator() {
        SecurityIdentity id = authenticated();
        if (!id.hasRole("operator")) {
            LOG.infof("event=access.denied principal=%s need=operator", id.getPrincipal().getName());
            throw new BillingException(BillingException.Code.FORBIDDEN, "realm role operator required");
        }
    }

    public void requireTenant(UUID organization, ControlPlaneAccess.Need need) {
        SecurityIdentity id = authenticated();
        if (id.hasRole("operator")) {
            return;
        }
        ControlPlaneAccess.Answer a = controlPlane.check(credential(id), Optional.of(organization), need);
        switch (a.decision()) {
            case ALLOWED -> {
            }
            case FORBIDDEN -> {
                LOG.infof("event=access.denied principal=%s organization=%s need=%s", id.getPrincipal().getName(),
                        organization, need);
                throw new BillingException(BillingException.Code.FORBIDDEN, a.reason().orElse("not allowed"));
            }
            case NOT_FOUND -> throw new BillingException(BillingException.Code.NOT_FOUND,
                    "organization " + organization + " not found");
        }
    }

    private SecurityIdentity authenticated() {
        if (identity.isAnonymous()) {
            throw new BillingException(BillingException.Code.UNAUTHENTICATED, "a bearer token is required");
        }
        return identity;
    }

    private static ControlPlaneAccess.Credential credential(SecurityIdentity id) {
        ControlPlaneAccess.Credential c = id.getAttribute(PersonalTokenMechanism.CREDENTIAL);
        if (c != null) {
            return c;
        }
        if (id.getPrincipal() instanceof JsonWebToken jwt && jwt.getSubject() != null) {
            return new ControlPlaneAccess.Subject(jwt.getSubject());
        }
        throw new BillingException(BillingException.Code.UNAUTHENTICATED, "the token carries no subject");
    }
}
