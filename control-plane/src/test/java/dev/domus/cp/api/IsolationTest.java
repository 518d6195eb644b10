// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every tenant route tried with another tenant's token answers 404 (or 403 where the route is operator-only) and
 * the answer leaks none of the owner's identifiers or names; nothing the intruder tried changed anything.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class IsolationTest {

    record Call(String method, String path, Object body) {
    }

    @Test
    void anotherTenantSeesNothing() throws Exception {
        Api.host();
        Api.Tenant alice = Api.tenant("alice");
        String key = SshPublicKeyFixtures.ed25519();
        String keyId = alice.req().body(Map.of("name", "laptop", "public_key", key))
                .post("/v1/projects/" + alice.projectId() + "/ssh-keys").then().statusCode(201).extract().path("id");
        Response created = alice.req().body(Map.of("name", "secret-web", "plan", "s-1", "image", "debian-12",
                "region", "local-1", "ssh_keys", List.of(keyId))).post("/v1/projects/" + alice.projectId() + "/vps");
        created.then().statusCode(202);
        String vps = created.path("vps.id");
        String action = created.path("action.id");
        String memberId = alice.req().get("/v1/organizations/" + alice.orgId() + "/members").then().statusCode(200)
                .extract().path("items[0].id");
        String tokenId = alice.req().get("/v1/tokens").then().statusCode(200).extract().path("items[0].id");

        Api.Tenant bob = Api.tenant("bob");
        String orgPath = "/v1/organizations/" + alice.orgId();
        String project = "/v1/projects/" + alice.projectId();
        List<Call> calls = new ArrayList<>(List.of(
                new Call("GET", orgPath, null),
                new Call("PATCH", orgPath, Map.of("display_name", "pwned")),
                new Call("GET", orgPath + "/members", null),
                new Call("POST", orgPath + "/members", Map.of("email", "bob@example.com", "role", "owner")),
                new Call("PATCH", orgPath + "/members/" + memberId, Map.of("role", "viewer")),
                new Call("DELETE", orgPath + "/members/" + memberId, null),
                new Call("GET", orgPath + "/projects", null),
                new Call("POST", orgPath + "/projects", Map.of("name", "evil")),
                new Call("GET", orgPath + "/audit-events", null),
                new Call("GET", project, null),
                new Call("PATCH", project, Map.of("description", "pwned")),
                new Call("DELETE", project, null),
                new Call("GET", project + "/quotas", null),
                new Call("PUT", project + "/quotas", Map.of("resource", "vps", "limit", 1000)),
                new Call("GET", project + "/ssh-keys", null),
                new Call("POST", project + "/ssh-keys", Map.of("name", "evil", "public_key", SshPublicKeyFixtures.ed25519())),
                new Call("GET", "/v1/ssh-keys/" + keyId, null),
                new Call("DELETE", "/v1/ssh-keys/" + keyId, null),
                new Call("GET", project + "/vps", null),
                new Call("POST", project + "/vps", Api.vps("evil")),
                new Call("GET", "/v1/vps/" + vps, null),
                new Call("PATCH", "/v1/vps/" + vps, Map.of("name", "pwned")),
                new Call("DELETE", "/v1/vps/" + vps, null),
                new Call("GET", "/v1/vps/" + vps + "/actions", null),
                new Call("POST", "/v1/vps/" + vps + "/actions", Map.of("type", "reboot")),
                new Call("GET", "/v1/actions/" + action, null),
                new Call("DELETE", "/v1/tokens/" + tokenId, null),
                new Call("GET", "/v1/hosts", null),
                new Call("GET", "/v1/hosts/" + Api.host(), null),
                new Call("PATCH", "/v1/hosts/" + Api.host(), Map.of("state", "cordoned")),
                new Call("POST", "/v1/plans", Map.of("name", "evil", "vcpus", 1, "memory_mb", 512, "disk_gb", 1,
                        "transfer_gb", 1, "price_hourly_minor", 0, "price_monthly_minor", 0, "currency", "EUR"))));
        List<String> secrets = List.of(alice.orgId().toString(), alice.projectId().toString(), vps, keyId, action,
                "secret-web", "laptop", alice.owner().email(), memberId, tokenId);
        for (Call c : calls) {
            var spec = bob.req();
            if (c.body() != null) {
                spec.body(c.body());
            }
            Response r = spec.request(c.method(), c.path());
            boolean operatorOnly = c.path().startsWith("/v1/hosts") || c.path().equals("/v1/plans");
            assertThat(r.statusCode()).as(c.method() + " " + c.path() + ": " + r.asString())
                    .isEqualTo(operatorOnly ? 403 : 404);
            assertThat(r.contentType()).startsWith("application/problem+json");
            String body = r.asString();
            for (String s : secrets) {
                // The 404 detail may echo the id the caller itself sent in the path, never anything else.
                if (!c.path().contains(s)) {
                    assertThat(body).as(c.method() + " " + c.path()).doesNotContain(s);
                }
            }
        }
        // Nothing changed for alice.
        alice.req().get(orgPath).then().statusCode(200).body("display_name", org.hamcrest.Matchers.not("pwned"));
        alice.req().get("/v1/vps/" + vps).then().statusCode(200).body("name", org.hamcrest.Matchers.equalTo("secret-web"));
        alice.req().get("/v1/ssh-keys/" + keyId).then().statusCode(200);
        alice.req().get(orgPath + "/members").then().body("items.size()", org.hamcrest.Matchers.equalTo(1));
        alice.req().get("/v1/projects/" + alice.projectId() + "/quotas").then()
                .body("items.find { it.resource == 'vps' }.limit", org.hamcrest.Matchers.equalTo(3));
        // And bob's own lists do not contain alice's things.
        assertThat(bob.req().get("/v1/organizations").asString()).doesNotContain(alice.orgId().toString());
    }

    @Test
    void unauthenticatedGets401Problem() {
        Response r = Api.anonymous().get("/v1/me");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.<String>path("code")).isEqualTo("unauthenticated");
        Response bad = Api.anonymous().auth().oauth2("dpat_not-a-real-token").get("/v1/me");
        assertThat(bad.statusCode()).isEqualTo(401);
        assertThat(bad.<String>path("code")).isEqualTo("unauthenticated");
    }
}
