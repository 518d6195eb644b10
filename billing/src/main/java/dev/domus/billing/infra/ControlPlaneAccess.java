// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.domus.billing.service.BillingConfig;
import dev.domus.billing.service.BillingException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Asks the control plane ({@code POST /internal/billing/access}, {@code api-spec/internal-openapi.yaml}) whether a
 * caller may read or manage an organization's billing, and resolves personal access tokens, which only the control
 * plane can validate. Billing authenticates with its own Keycloak client-credentials token (cached until shortly
 * before it expires). Answers are cached for {@code domus.billing.control-plane.cache-ttl}; failures are not.
 */
@ApplicationScoped
public class ControlPlaneAccess {
    private static final Logger LOG = Logger.getLogger(ControlPlaneAccess.class);

    /** What the caller wants to do with the organization's billing. */
    public enum Need { READ, MANAGE }

    /** The control plane's decision; {@code NOT_FOUND} = not a member (answered 404, existence is not revealed). */
    public enum Decision { ALLOWED, NOT_FOUND, FORBIDDEN }

    /** How the caller authenticated to billing. */
    public sealed interface Credential permits Subject, PersonalToken {
    }

    /** The {@code sub} of a Keycloak JWT that billing has validated itself. */
    public record Subject(String sub) implements Credential {
    }

    /** A {@code dpat_...} secret as the caller sent it (never logged). */
    public record PersonalToken(String secret) implements Credential {
        @Override
        public String toString() {
            return "PersonalToken[***]";
        }
    }

    /** The answer for one caller (and organization, when one was asked about). */
    public record Answer(boolean authenticated, boolean operator, Optional<UUID> userId, Decision decision,
                         Optional<String> reason) {
    }

    private record Key(String caller, Optional<UUID> organization, Need need) {
    }

    private record Cached(Answer answer, Instant expires) {
    }

    private final BillingConfig.ControlPlane config;
    private final ObjectMapper json;
    private final HttpClient http;
    private final Map<Key, Cached> cache = new ConcurrentHashMap<>();
    private String token;
    private Instant tokenExpires = Instant.EPOCH;

    @Inject
    public ControlPlaneAccess(BillingConfig config, ObjectMapper json) {
        this.config = config.controlPlane();
        this.json = json;
        this.http = HttpClient.newBuilder().connectTimeout(this.config.timeout()).build();
    }

    /**
     * The control plane's answer for {@code credential} and {@code organization} (empty: resolve the caller only).
     *
     * @throws BillingException {@code UNAVAILABLE} when the control plane or Keycloak cannot answer
     */
    public Answer check(Credential credential, Optional<UUID> organization, Need need) {
        Key key = new Key(cacheId(credential), organization, need);
        Instant now = Instant.now();
        Cached c = cache.get(key);
        if (c != null && now.isBefore(c.expires())) {
            return c.answer();
        }
        Answer a = ask(credential, organization, need);
        if (cache.size() >= config.cacheSize()) {
            cache.clear();
        }
        cache.put(key, new Cached(a, now.plus(config.cacheTtl())));
        return a;
    }

    private Answer ask(Credential credential, Optional<UUID> organization, Need need) {
        Map<String, Object> body = new LinkedHashMap<>();
        organization.ifPresent(o -> body.put("organization_id", o.toString()));
        body.put("access", need.name().toLowerCase(Locale.ROOT));
        switch (credential) {
            case Subject s -> body.put("oidc_subject", s.sub());
            case PersonalToken t -> body.put("personal_token", t.secret());
        }
        URI uri = URI.create(config.url().replaceAll("/+$", "") + "/internal/billing/access");
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(config.timeout())
                    .header("Authorization", "Bearer " + token()).header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 401) {
                // Our token may have been revoked or the realm re-imported: fetch a new one next time.
                synchronized (this) {
                    tokenExpires = Instant.EPOCH;
                }
            }
            if (r.statusCode() != 200) {
                LOG.errorf("event=control_plane.refused status=%d body=\"%s\"", r.statusCode(), abbreviate(r.body()));
                throw new BillingException(BillingException.Code.UNAVAILABLE,
                        "the control plane refused the access check (" + r.statusCode() + ")");
            }
            JsonNode n = json.readTree(r.body());
            Decision d = Decision.valueOf(n.path("decision").asText("not_found").toUpperCase(Locale.ROOT));
            Optional<UUID> user = n.hasNonNull("user_id") ? Optional.of(UUID.fromString(n.get("user_id").asText()))
                    : Optional.empty();
            Optional<String> reason = n.hasNonNull("reason") ? Optional.of(n.get("reason").asText()) : Optional.empty();
            return new Answer(n.path("authenticated").asBoolean(false), n.path("operator").asBoolean(false), user, d,
                    reason);
        } catch (IOException | IllegalArgumentException e) {
            LOG.errorf("event=control_plane.unreachable url=%s error=\"%s\"", uri, e.toString());
            throw new BillingException(BillingException.Code.UNAVAILABLE, "the control plane cannot be reached", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BillingException(BillingException.Code.UNAVAILABLE, "interrupted", e);
        }
    }

    private synchronized String token() throws IOException, InterruptedException {
        if (token != null && Instant.now().isBefore(tokenExpires)) {
            return token;
        }
        String form = "grant_type=client_credentials&client_id=" + enc(config.clientId()) + "&client_secret="
                + enc(config.clientSecret());
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(config.tokenUrl()))
                .timeout(config.timeout()).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            LOG.errorf("event=client_token.refused url=%s status=%d", config.tokenUrl(), r.statusCode());
            throw new BillingException(BillingException.Code.UNAVAILABLE,
                    "Keycloak refused billing's client credentials (" + r.statusCode() + ")");
        }
        JsonNode n = json.readTree(r.body());
        token = n.path("access_token").asText();
        long ttl = n.path("expires_in").asLong(60);
        tokenExpires = Instant.now().plusSeconds(Math.max(5, ttl - 15));
        return token;
    }

    /** Cache key of a credential: a token by its SHA-256 so that no secret sits in the map as a key. */
    private static String cacheId(Credential c) {
        return switch (c) {
            case Subject s -> "sub:" + s.sub();
            case PersonalToken t -> "pat:" + sha256(t.secret());
        };
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ').replace('"', '\'');
        return one.length() > 200 ? one.substring(0, 200) + "..." : one;
    }
}
