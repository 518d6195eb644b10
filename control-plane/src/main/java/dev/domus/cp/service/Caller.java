// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.Scope;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Who is calling: a user (through OIDC or one of their tokens) or a host agent (client credentials). OIDC sessions
 * carry every scope; tokens carry theirs.
 */
public record Caller(UUID userId, String email, boolean operator, boolean hostAgent, Kind kind, Set<Scope> scopes,
                     Optional<UUID> tokenId) {
    /** How the caller authenticated. */
    public enum Kind { OIDC, TOKEN }

    public Caller {
        scopes = scopes.isEmpty() ? EnumSet.noneOf(Scope.class) : EnumSet.copyOf(scopes);
    }

    public boolean has(Scope scope) {
        return scopes.contains(scope);
    }

    /** The audit/idempotency name of the caller. */
    public String actor() {
        return email;
    }
}
