// SPDX-License-Identifier: Apache-2.0
/**
 * Personal access tokens ({@code dpat_...}) as every Domus service sees them: their format and at-rest hash
 * ({@link dev.domus.auth.PersonalTokens}) and the HTTP mechanism that picks them out of {@code Authorization:
 * Bearer} next to Keycloak JWTs ({@link dev.domus.auth.PersonalTokenMechanism}). How a token is resolved to a user
 * stays with each service (the control plane looks it up, billing asks the control plane).
 */
package dev.domus.auth;
