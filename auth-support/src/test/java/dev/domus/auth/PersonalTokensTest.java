// SPDX-License-Identifier: Apache-2.0
package dev.domus.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Token format, hashing and the header parsing the mechanism relies on. */
class PersonalTokensTest {
    @Test
    void newSecretsAreWellFormedAndDistinct() {
        String a = PersonalTokens.newSecret();
        String b = PersonalTokens.newSecret();
        assertThat(a).startsWith("dpat_").hasSize(5 + 43).isNotEqualTo(b);
        assertThat(PersonalTokens.wellFormed(a)).isTrue();
        assertThat(PersonalTokens.wellFormed("dpat_" + "x".repeat(96))).isFalse();
        assertThat(PersonalTokens.wellFormed("eyJhbGciOi")).isFalse();
    }

    @Test
    void hashIsSha256Hex() {
        // SHA-256("abc") from FIPS 180-2.
        assertThat(PersonalTokens.hash("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void onlyBearerPersonalTokensAreTaken() {
        assertThat(PersonalTokens.fromAuthorization("Bearer dpat_abc")).contains("dpat_abc");
        assertThat(PersonalTokens.fromAuthorization("bearer   dpat_abc  ")).contains("dpat_abc");
        assertThat(PersonalTokens.fromAuthorization("Bearer eyJhbGciOiJSUzI1NiJ9.x.y")).isEmpty();
        assertThat(PersonalTokens.fromAuthorization("Basic ZHBhdF94Onk=")).isEmpty();
        assertThat(PersonalTokens.fromAuthorization("Bearer")).isEmpty();
        assertThat(PersonalTokens.fromAuthorization(null)).isEmpty();
    }
}
