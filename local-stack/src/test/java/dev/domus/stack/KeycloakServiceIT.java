// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.domus.stack.quarkus.KeycloakTestResource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeycloakServiceIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static Map<String, String> config;

    @BeforeAll
    static void start() {
        KeycloakTestResource r = new KeycloakTestResource();
        r.init(Map.of());
        config = r.start();
        System.out.println("keycloak ready in " + KeycloakTestResource.service().startedIn().toMillis()
                + " ms (incl. one-time build/import if the cache was empty)");
    }

    @Test
    void testResourceConfigComesFromTheRealmFile() {
        String issuer = KeycloakTestResource.service().issuer("domus");
        assertThat(issuer).matches("http://127\\.0\\.0\\.1:\\d+/realms/domus");
        assertThat(config).containsEntry("quarkus.oidc.auth-server-url", issuer)
                .containsEntry("domus.test.client.domus-host-agent.secret", "domus-host-agent-dev-secret")
                .containsEntry("domus.test.client.domus-portal.secret", "domus-portal-dev-secret")
                .containsEntry("domus.test.user.alice.username", "alice@example.com")
                .containsEntry("domus.test.user.alice.password", "alice-password")
                .containsEntry("domus.test.user.ops.password", "ops-password")
                .doesNotContainKey("domus.test.client.domus-cli.secret");
    }

    @Test
    void hostAgentGetsATokenByClientCredentials() throws Exception {
        JsonNode claims = token(Map.of("grant_type", "client_credentials",
                "client_id", "domus-host-agent",
                "client_secret", config.get("domus.test.client.domus-host-agent.secret")));
        assertThat(claims.path("iss").asText()).isEqualTo(config.get("domus.test.issuer"));
        assertThat(claims.path("azp").asText()).isEqualTo("domus-host-agent");
        assertThat(roles(claims)).contains("host-agent").doesNotContain("operator", "customer");
        assertThat(audiences(claims)).contains("domus-api");
    }

    @Test
    void alicePasswordGrantCarriesCustomerRoleOnly() throws Exception {
        JsonNode claims = token(Map.of("grant_type", "password", "client_id", "domus-cli",
                "username", config.get("domus.test.user.alice.username"),
                "password", config.get("domus.test.user.alice.password")));
        assertThat(claims.path("iss").asText()).isEqualTo(config.get("domus.test.issuer"));
        assertThat(claims.path("preferred_username").asText()).isEqualTo("alice@example.com");
        assertThat(claims.path("email").asText()).isEqualTo("alice@example.com");
        assertThat(roles(claims)).contains("customer").doesNotContain("operator", "host-agent");
        assertThat(audiences(claims)).contains("domus-api");
    }

    @Test
    void operatorHasOperatorRole() throws Exception {
        JsonNode claims = token(Map.of("grant_type", "password", "client_id", "domus-cli",
                "username", "ops@example.com", "password", config.get("domus.test.user.ops.password")));
        assertThat(roles(claims)).contains("operator");
    }

    @Test
    void wrongSecretAndWrongPasswordAreRejected() throws Exception {
        assertThat(post(Map.of("grant_type", "client_credentials", "client_id", "domus-host-agent",
                "client_secret", "wrong")).statusCode()).isEqualTo(401);
        assertThat(post(Map.of("grant_type", "password", "client_id", "domus-cli",
                "username", "bob@example.com", "password", "wrong")).statusCode()).isEqualTo(401);
    }

    @Test
    void portTakenIsAClearOneLineError(@TempDir Path tmp) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Path realm = Path.of(System.getProperty("domus.repo.root", ".."), "deploy/keycloak/domus-realm.json");
            assertThatThrownBy(() -> KeycloakService.start(StackOptions.in(tmp).withPort(port), realm))
                    .isInstanceOfSatisfying(StackException.class, e -> assertThat(e.oneLine())
                            .isEqualTo("keycloak: port " + port + " on 127.0.0.1 is already in use"));
        }
    }

    @Test
    void badRealmFileIsAClearError(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("realm.json");
        java.nio.file.Files.writeString(bad, "{\"clients\": []}");
        assertThatThrownBy(() -> KeycloakService.start(StackOptions.in(tmp), bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("realm file " + bad + " has no \"realm\" name");
    }

    private static HttpResponse<String> post(Map<String, String> form) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return HTTP.send(HttpRequest.newBuilder(URI.create(config.get("domus.test.token-url")))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Gets an access token and returns its decoded claims (the signature is Keycloak's business here). */
    private static JsonNode token(Map<String, String> form) throws Exception {
        HttpResponse<String> r = post(form);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String jwt = JSON.readTree(r.body()).path("access_token").asText();
        String[] parts = jwt.split("\\.");
        assertThat(parts).hasSize(3);
        return JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
    }

    private static List<String> roles(JsonNode claims) {
        List<String> out = new ArrayList<>();
        claims.path("realm_access").path("roles").forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> audiences(JsonNode claims) {
        List<String> out = new ArrayList<>();
        JsonNode aud = claims.path("aud");
        if (aud.isArray()) {
            aud.forEach(n -> out.add(n.asText()));
        } else if (aud.isTextual()) {
            out.add(aud.asText());
        }
        return out;
    }
}
