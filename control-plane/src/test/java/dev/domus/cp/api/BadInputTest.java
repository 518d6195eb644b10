// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.domus.cp.support.Api;
import dev.domus.cp.support.StackResources;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Malformed, unknown, out-of-range and oversized input: 400 problem+json with a stable code, nothing written. */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class BadInputTest {
    Api.Tenant t;
    String path;

    @BeforeEach
    void tenant() {
        Api.host();
        t = Api.tenant("bad");
        path = "/v1/projects/" + t.projectId() + "/vps";
    }

    void nothingWritten() {
        t.req().get(path).then().statusCode(200).body("items.size()", equalTo(0));
        t.req().get("/v1/projects/" + t.projectId() + "/quotas").then()
                .body("items.find { it.resource == 'vps' }.used", equalTo(0));
    }

    Response post(String rawBody) {
        return t.req().body(rawBody).post(path);
    }

    static void problem(Response r, String code) {
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.<String>path("code")).isEqualTo(code);
        assertThat(r.<Integer>path("status")).isEqualTo(400);
    }

    @Test
    void malformedJson() {
        problem(post("{\"name\": \"x\", "), "malformed_json");
        problem(post("not json at all"), "malformed_json");
        nothingWritten();
    }

    @Test
    void unknownField() {
        Map<String, Object> b = new HashMap<>(Api.vps("u-1"));
        b.put("flavor", "large");
        Response r = t.req().body(b).post(path);
        problem(r, "unknown_field");
        r.then().body("errors.field", hasItem("flavor"));
        nothingWritten();
    }

    @Test
    void outOfRangeAndWrongTypes() {
        Map<String, Object> b = new HashMap<>(Api.vps("UPPER_case"));
        problem(t.req().body(b).post(path), "validation_failed");
        b = new HashMap<>(Api.vps("ok-name"));
        b.put("user_data", "x".repeat(40000));
        Response r = t.req().body(b).post(path);
        problem(r, "validation_failed");
        r.then().body("errors.field", hasItem("user_data"));
        b = new HashMap<>(Api.vps("ok-name"));
        b.put("ssh_keys", List.of("not-a-uuid"));
        problem(t.req().body(b).post(path), "validation_failed");
        b = new HashMap<>(Api.vps("ok-name"));
        b.remove("plan");
        problem(t.req().body(b).post(path), "validation_failed");
        problem(t.req().queryParam("page_size", 0).get(path), "validation_failed");
        problem(t.req().queryParam("page_size", 201).get(path), "validation_failed");
        problem(t.req().queryParam("page_token", "garbage!").get(path), "validation_failed");
        problem(t.req().body(Map.of("name", "k", "public_key", "ssh-ed25519 AA")).post(
                "/v1/projects/" + t.projectId() + "/ssh-keys"), "validation_failed");
        nothingWritten();
    }

    @Test
    void oversizedBody() {
        Map<String, Object> b = new HashMap<>(Api.vps("big"));
        b.put("labels", Map.of("k", "v".repeat(10)));
        b.put("user_data", "y".repeat(70000));
        problem(t.req().body(b).post(path), "body_too_large");
        nothingWritten();
    }

    @Test
    void semanticErrorsAre422() {
        Map<String, Object> b = new HashMap<>(Api.vps("x-1"));
        b.put("plan", "no-such-plan");
        Response r = t.req().body(b).post(path);
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.<String>path("code")).isEqualTo("invalid_reference");
        Response k = t.req().body(Map.of("name", "k", "public_key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAD"))
                .post("/v1/projects/" + t.projectId() + "/ssh-keys");
        assertThat(k.statusCode()).as(k.asString()).isEqualTo(422);
        assertThat(k.<String>path("code")).isEqualTo("invalid_ssh_key");
        nothingWritten();
    }
}
