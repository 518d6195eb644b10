// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

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
import java.util.LinkedHashMap;
import java.util.Map;

/** The few HTTP+JSON calls the launcher makes itself (tokens, host registration, demo seed). */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    /** A JSON object from alternating keys and values (values: String, Number, Boolean, Map, List). */
    static Map<String, Object> object(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** Calls the API with a bearer token; a non-2xx answer is a one-line {@link StackException}. */
    static JsonNode call(HttpClient http, String method, String url, String bearer, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + bearer).header("Accept", "application/json");
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(MAPPER.writeValueAsBytes(body)));
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new StackException("platform", StackException.Code.START_FAILED,
                        method + " " + url + " answered " + r.statusCode() + ": " + r.body().strip());
            }
            return r.body().isBlank() ? MAPPER.createObjectNode() : MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new StackException("platform", StackException.Code.START_FAILED,
                    method + " " + url + " failed: " + e.getMessage(), "", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("platform", StackException.Code.START_FAILED, method + " " + url + " interrupted");
        }
    }

    /** OIDC resource-owner password grant; the access token. */
    static String passwordToken(HttpClient http, String tokenUrl, String client, String user, String password) {
        String form = "grant_type=password&client_id=" + enc(client) + "&username=" + enc(user) + "&password="
                + enc(password) + "&scope=openid";
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(tokenUrl))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new StackException("keycloak", StackException.Code.START_FAILED,
                        "password grant for " + user + " answered " + r.statusCode() + ": " + r.body().strip());
            }
            return MAPPER.readTree(r.body()).path("access_token").asText();
        } catch (IOException e) {
            throw new StackException("keycloak", StackException.Code.START_FAILED,
                    "password grant for " + user + " failed: " + e.getMessage(), "", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("keycloak", StackException.Code.START_FAILED, "interrupted");
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
