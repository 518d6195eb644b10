// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import dev.domus.auth.PersonalTokenMechanism;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Accepts {@code Authorization: Bearer dpat_...} next to Keycloak JWTs (the shared mechanism of
 * {@code auth-support}); {@link TokenIdentityProvider} resolves the token.
 */
@ApplicationScoped
public class TokenAuthenticationMechanism extends PersonalTokenMechanism {
}
