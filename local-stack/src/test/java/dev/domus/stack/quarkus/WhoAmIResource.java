// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack.quarkus;

import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;

/** Test app endpoint: only host agents, answers with the caller's principal name. */
@Path("/whoami")
public class WhoAmIResource {

    @Inject
    SecurityIdentity identity;

    @GET
    @RolesAllowed("host-agent")
    public String whoami() {
        return identity.getPrincipal().getName();
    }
}
