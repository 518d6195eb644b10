// SPDX-License-Identifier: Apache-2.0
package dev.domus.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

/** Plain HTTP + JSON against the public API, as any customer's client would talk to it. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A response: status and parsed body (an empty object when there is none). */
    record Answer(int status, JsonNode body) {
        Answer expect(int wanted) {
            if (status != wanted) {
                throw new AssertionError("expected HTTP " + wanted + ", got " + status + ": " + body);
            }
            return this;
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private volatile String bearer;

    Api(String base, String bearer) {
        this.base = base;
        this.bearer = bearer;
    }

    void bearer(String token) {
        this.bearer = token;
    }

    Answer get(String path) throws Exception {
        return send("GET", path, null);
    }

    Answer post(String path, Object body) throws Exception {
        return send("POST", path, body);
    }

    Answer delete(String path) throws Exception {
        return send("DELETE", path, null);
    }

    Answer send(String method, String path, Object body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + bearer).header("Accept", "application/json");
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").header("Idempotency-Key", UUID.randomUUID().toString())
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode n = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        return new Answer(r.statusCode(), n);
    }

    /** OIDC resource-owner password grant with the public CLI client: the access token. */
    static String passwordGrant(String tokenUrl, String user, String password) throws IOException, InterruptedException {
        String form = "grant_type=password&client_id=domus-cli&scope=openid&username="
                + URLEncoder.encode(user, StandardCharsets.UTF_8) + "&password="
                + URLEncoder.encode(password, StandardCharsets.UTF_8);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(tokenUrl))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("password grant for " + user + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).path("access_token").asText();
    }
}
