// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import io.quarkus.security.identity.request.BaseAuthenticationRequest;

/** A personal access token presented as a bearer credential. */
final class TokenAuthenticationRequest extends BaseAuthenticationRequest {
    private final String secret;

    TokenAuthenticationRequest(String secret) {
        this.secret = secret;
    }

    String secret() {
        return secret;
    }
}
