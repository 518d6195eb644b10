// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.infra;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.AgentException;
import dev.domus.api.internal.model.DesiredState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The control plane as the agent sees it: Keycloak client-credentials token (cached until shortly before it
 * expires), host registration with the public {@code POST /v1/hosts}, and the internal {@code GET
 * /internal/hosts/{id}/desired}. Absent when {@code domus.agent.control-plane-url} is not set.
 */
@ApplicationScoped
public class ControlPlaneClient {
    private final AgentConfig config;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final ObjectMapper json = new ObjectMapper().findAndRegisterModules()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private String token;
    private Instant tokenExpires = Instant.EPOCH;

    @Inject
    public ControlPlaneClient(AgentConfig config) {
        this.config = config;
    }

    public boolean configured() {
        return config.controlPlaneUrl().isPresent();
    }

    /**
     * Registers this host (idempotent by name on the control plane side) with its capacity and VPS network (the
     * gateway with prefix and the host numbers of the pool, so the control plane's IP pool hands out addresses
     * this host's bridge routes); returns the host id it answered.
     */
    public Optional<String> register(int vcpus, long memoryMb, long diskGb, String gateway, int poolFirst,
                                     int poolLast) {
        Map<String, Object> body = Map.of("name", config.hostName(), "region", config.region(),
                "capacity", Map.of("vcpus", vcpus, "memory_mb", memoryMb, "disk_gb", diskGb), "agent_version", "0.1.0",
                "vps_network", Map.of("gateway", gateway, "pool_first", poolFirst, "pool_last", poolLast));
        JsonNode n = call(HttpRequest.newBuilder(uri("/v1/hosts")).POST(HttpRequest.BodyPublishers.ofString(write(body)))
                .header("Content-Type", "application/json"));
        return Optional.ofNullable(n.get("id")).map(JsonNode::asText);
    }

    public DesiredState desired() {
        JsonNode n = call(HttpRequest.newBuilder(uri("/internal/hosts/" + config.hostId() + "/desired")).GET());
        try {
            return json.treeToValue(n, DesiredState.class);
        } catch (IOException e) {
            throw new AgentException(AgentException.CONTROL_PLANE, "bad desired state: " + e.getMessage(), e);
        }
    }

    private URI uri(String path) {
        String base = config.controlPlaneUrl().orElseThrow(() -> new AgentException(AgentException.CONTROL_PLANE,
                "domus.agent.control-plane-url is not set"));
        return URI.create(base.replaceAll("/+$", "") + path);
    }

    private JsonNode call(HttpRequest.Builder req) {
        try {
            HttpResponse<String> r = http.send(req.header("Authorization", "Bearer " + token())
                    .header("Accept", "application/json").timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new AgentException(AgentException.CONTROL_PLANE, r.request().method() + " " + r.uri() + " -> "
                        + r.statusCode() + ": " + r.body());
            }
            return json.readTree(r.body());
        } catch (IOException e) {
            throw new AgentException(AgentException.CONTROL_PLANE, "control plane unreachable: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.CONTROL_PLANE, "interrupted");
        }
    }

    private synchronized String token() throws IOException, InterruptedException {
        if (token != null && Instant.now().isBefore(tokenExpires)) {
            return token;
        }
        String url = config.oidc().tokenUrl().orElseThrow(() -> new AgentException(AgentException.CONTROL_PLANE,
                "domus.agent.oidc.token-url is not set"));
        String form = "grant_type=client_credentials&client_id=" + enc(config.oidc().clientId())
                + "&client_secret=" + enc(config.oidc().clientSecret().orElse(""));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AgentException(AgentException.CONTROL_PLANE, "token request to " + url + " -> " + r.statusCode()
                    + ": " + r.body());
        }
        JsonNode n = json.readTree(r.body());
        token = n.path("access_token").asText();
        long ttl = n.path("expires_in").asLong(60);
        tokenExpires = Instant.now().plusSeconds(Math.max(5, ttl - 15));
        return token;
    }

    private String write(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (IOException e) {
            throw new AgentException(AgentException.CONTROL_PLANE, e.getMessage(), e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
