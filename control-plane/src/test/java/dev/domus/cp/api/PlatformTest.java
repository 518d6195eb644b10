// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;

import dev.domus.cp.domain.Scope;
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
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tokens (shown once, scoped, revocable), the audit log, rate limiting, and the /q endpoints. */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class PlatformTest {

    @Test
    void tokensAreShownOnceScopedAndRevocable() {
        Api.User u = Api.user("tok", false);
        Response created = u.req().body(Map.of("name", "ci", "scopes", List.of("read"))).post("/v1/tokens");
        created.then().statusCode(201).body("token.scopes", equalTo(List.of("read")));
        String secret = created.path("secret");
        String id = created.path("token.id");
        assertThat(secret).startsWith("dpat_");
        String list = u.req().get("/v1/tokens").then().statusCode(200).extract().asString();
        assertThat(list).contains(id).doesNotContain(secret);

        Api.User ro = new Api.User(u.id(), u.email(), secret);
        ro.req().get("/v1/me").then().statusCode(200).body("auth", equalTo("token")).body("scopes", equalTo(List.of("read")));
        ro.req().body(Map.of("name", "nope")).post("/v1/organizations").then().statusCode(403)
                .body("code", equalTo("insufficient_scope"));
        // A read token cannot mint a stronger one.
        ro.req().body(Map.of("name", "escalate", "scopes", List.of("admin"))).post("/v1/tokens").then().statusCode(403);

        u.req().delete("/v1/tokens/" + id).then().statusCode(204);
        ro.req().get("/v1/me").then().statusCode(401).body("code", equalTo("unauthenticated"));
        u.req().get("/v1/tokens").then().body("items.find { it.id == '" + id + "' }.revoked_at", notNullValue());
    }

    @Test
    void viewerCannotWrite() {
        Api.Tenant t = Api.tenant("roles");
        Api.User viewer = Api.user("viewer", false);
        t.req().body(Map.of("email", viewer.email(), "role", "viewer")).post("/v1/organizations/" + t.orgId() + "/members")
                .then().statusCode(201).body("role", equalTo("viewer"));
        viewer.req().get("/v1/projects/" + t.projectId() + "/vps").then().statusCode(200);
        viewer.req().body(Api.vps("v-1")).post("/v1/projects/" + t.projectId() + "/vps").then().statusCode(403)
                .body("code", equalTo("forbidden"));
        // The only owner cannot be demoted.
        String ownerMember = t.req().get("/v1/organizations/" + t.orgId() + "/members").then().extract()
                .path("items.find { it.role == 'owner' }.id");
        t.req().body(Map.of("role", "admin")).patch("/v1/organizations/" + t.orgId() + "/members/" + ownerMember)
                .then().statusCode(409).body("code", equalTo("last_owner"));
    }

    @Test
    void auditLogRecordsMutatingCalls() {
        Api.Tenant t = Api.tenant("audit");
        t.req().body(Map.of("name", "second")).post("/v1/organizations/" + t.orgId() + "/projects").then().statusCode(201);
        t.req().body(Map.of("name", "second")).post("/v1/organizations/" + t.orgId() + "/projects").then().statusCode(409);
        t.req().get("/v1/organizations/" + t.orgId() + "/audit-events").then().statusCode(200)
                .body("items[0].status", equalTo(409)).body("items[0].code", equalTo("already_exists"))
                .body("items[0].method", equalTo("POST")).body("items[0].actor", equalTo(t.owner().email()))
                .body("items[1].status", equalTo(201)).body("items[1].resource_type", equalTo("project"))
                .body("items.path", hasItem("/v1/organizations"));
    }

    @Test
    void rateLimitHeadersAnd429() {
        Api.User u = Api.user("rate", false);
        Response first = u.req().get("/v1/me");
        first.then().statusCode(200).header("RateLimit-Limit", "400").header("RateLimit-Remaining", "399");
        Response last = first;
        for (int i = 0; i < 400 && last.statusCode() == 200; i++) {
            last = u.req().get("/v1/me");
        }
        assertThat(last.statusCode()).isEqualTo(429);
        assertThat(last.<String>path("code")).isEqualTo("rate_limited");
        assertThat(Integer.parseInt(last.header("Retry-After"))).isBetween(0, 60);
        assertThat(last.header("RateLimit-Remaining")).isEqualTo("0");
        // Another credential is not affected.
        Api.user("rate2", false).req().get("/v1/me").then().statusCode(200);
    }

    @Test
    void openapiHealthAndMetrics() {
        given().get("/q/openapi").then().statusCode(200).body(containsString("title: Domus API"))
                .body(containsString("/v1/projects/{project_id}/vps"));
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200).body(containsString("http_server_requests_seconds"));
    }

    @Test
    void catalog() {
        Api.User u = Api.user("cat", false, EnumSet.of(Scope.READ));
        u.req().get("/v1/plans").then().statusCode(200).body("items.name", hasItem("s-1"))
                .body("items.find { it.name == 's-2' }.price_monthly_minor", equalTo(1200));
        u.req().get("/v1/images").then().statusCode(200).body("items[0].arch", equalTo("riscv64"));
        u.req().get("/v1/regions").then().statusCode(200).body("items.name", hasItem("local-1"));
        Api.operator().req().body(Map.of("name", "img-" + System.nanoTime() % 100000, "arch", "riscv64",
                "version", "13")).post("/v1/images").then().statusCode(201).body("status", equalTo("available"));
    }
}
