// SPDX-License-Identifier: Apache-2.0
package dev.domus.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The format of personal access tokens: {@code dpat_} + 256 random bits (URL-safe Base64). Only their SHA-256 is
 * stored: the secret has full entropy, so a plain hash is enough and a lookup is one index probe.
 */
public final class PersonalTokens {
    /** Prefix of every personal access token. */
    public static final String PREFIX = "dpat_";
    /** Longer presented secrets are refused before any lookup (a real one has 48 characters). */
    public static final int MAX_LENGTH = 100;
    private static final String BEARER = "Bearer ";
    private static final SecureRandom RANDOM = new SecureRandom();

    private PersonalTokens() {
    }

    /** A new secret. */
    public static String newSecret() {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }

    /** Whether {@code secret} can be a personal access token at all (prefix and length). */
    public static boolean wellFormed(String secret) {
        return secret.startsWith(PREFIX) && secret.length() <= MAX_LENGTH;
    }

    /** The at-rest form of a secret: SHA-256, lower-case hex. */
    public static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /**
     * The personal access token in an {@code Authorization} header value ({@code Bearer dpat_...}, scheme
     * case-insensitive); empty for no header, another scheme, or another kind of bearer token (a JWT), which belong
     * to other mechanisms. The length is not checked here: an overlong {@code dpat_} secret is refused by the
     * identity provider as a failed authentication, not passed on to OIDC.
     */
    public static Optional<String> fromAuthorization(String header) {
        if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Optional.empty();
        }
        String secret = header.substring(BEARER.length()).strip();
        return secret.startsWith(PREFIX) ? Optional.of(secret) : Optional.empty();
    }
}
