// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.internal.model.BillingAccess;
import dev.domus.api.internal.model.BillingAccessRequest;
import dev.domus.api.internal.server.InternalBillingApi;
import dev.domus.cp.domain.DomusException;
import dev.domus.cp.service.BillingAccessService;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.inject.Inject;
import java.util.Locale;
import java.util.Optional;

/**
 * Internal API for the billing service ({@code POST /internal/billing/access}): who may read which organization's
 * billing. Only the Keycloak realm role {@code billing} (client {@code domus-billing}) may ask.
 */
public class InternalBillingResource implements InternalBillingApi {
    @Inject
    SecurityIdentity identity;
    @Inject
    BillingAccessService billingAccess;

    @Override
    public jakarta.ws.rs.core.Response checkBillingAccess(BillingAccessRequest body) {
        if (identity.isAnonymous()) {
            throw new DomusException(DomusException.Kind.UNAUTHENTICATED, "unauthenticated", "authentication required");
        }
        if (!identity.hasRole("billing")) {
            throw DomusException.forbidden("realm role billing required");
        }
        if (body == null) {
            throw DomusException.invalid("body", "required");
        }
        BillingAccessService.Need need = body.getAccess() == BillingAccessRequest.AccessEnum.MANAGE
                ? BillingAccessService.Need.MANAGE : BillingAccessService.Need.READ;
        BillingAccessService.Answer a = billingAccess.check(Optional.ofNullable(body.getOidcSubject()),
                Optional.ofNullable(body.getPersonalToken()), Optional.ofNullable(body.getOrganizationId()), need);
        BillingAccess out = new BillingAccess().authenticated(a.authenticated()).operator(a.operator())
                .userId(a.userId().orElse(null))
                .decision(BillingAccess.DecisionEnum.fromValue(a.decision().name().toLowerCase(Locale.ROOT)))
                .reason(a.reason().orElse(null));
        return Responses.ok(out);
    }
}
