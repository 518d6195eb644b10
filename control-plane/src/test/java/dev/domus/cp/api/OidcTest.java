// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import dev.domus.cp.support.Api;
import dev.domus.cp.support.OpenApiContract;
import dev.domus.cp.support.StackResources;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import dev.domus.stack.KeycloakService;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Real Keycloak: customers log in (password grant of the test client) and use the API with the JWT, then mint a
 * personal access token; the host agent registers its host with client credentials; operators are recognised by
 * their realm role and customers are not.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class OidcTest {
    @ConfigProperty(name = "domus.test.token-url")
    String tokenUrl;
    @ConfigProperty(name = "domus.test.user.alice.username")
    String alice;
    @ConfigProperty(name = "domus.test.user.alice.password")
    String alicePassword;
    @ConfigProperty(name = "domus.test.user.ops.username")
    String ops;
    @ConfigProperty(name = "domus.test.user.ops.password")
    String opsPassword;

    String login(String user, String password) {
        return KeycloakService.passwordGrant(tokenUrl, user, password);
    }

    static RequestSpecification as(String jwt) {
        return given().filter(OpenApiContract.filter()).auth().oauth2(jwt).contentType(ContentType.JSON)
                .accept(ContentType.JSON);
    }

    @Test
    void customerLogsInAndMintsAToken() {
        String jwt = login(alice, alicePassword);
        as(jwt).get("/v1/me").then().statusCode(200).body("email", equalTo(alice)).body("auth", equalTo("oidc"))
                .body("operator", equalTo(false));
        String org = as(jwt).body(Map.of("name", "oidc-" + UUID.randomUUID().toString().substring(0, 8)))
                .post("/v1/organizations").then().statusCode(201).body("role", equalTo("owner")).extract().path("id");
        String secret = as(jwt).body(Map.of("name", "cli", "scopes", List.of("read", "write")))
                .post("/v1/tokens").then().statusCode(201).extract().path("secret");
        // The token acts as the same user (sees the organization) with its own, narrower scopes.
        as(secret).get("/v1/organizations/" + org).then().statusCode(200);
        as(secret).get("/v1/me").then().body("auth", equalTo("token")).body("scopes", equalTo(List.of("read", "write")));
        // Customers are not operators.
        as(jwt).get("/v1/hosts").then().statusCode(403).body("code", equalTo("forbidden"));
        // A tampered JWT is refused.
        as(jwt.substring(0, jwt.length() - 4) + "AAAA").get("/v1/me").then().statusCode(401)
                .body("code", equalTo("unauthenticated"));
    }

    @Test
    void hostAgentRegistersAndOperatorSeesIt() {
        String agent = Api.clientToken("domus-host-agent");
        String name = "kc-host-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> body = Map.of("name", name, "region", "local-1", "agent_version", "0.1.0",
                "capacity", Map.of("vcpus", 8, "memory_mb", 16384, "disk_gb", 200));
        String id = as(agent).body(body).post("/v1/hosts").then().statusCode(201).body("state", equalTo("up"))
                .extract().path("id");
        // Re-registration is idempotent by name.
        as(agent).body(body).post("/v1/hosts").then().statusCode(200).body("id", equalTo(id));
        String opsJwt = login(ops, opsPassword);
        as(opsJwt).get("/v1/me").then().body("operator", equalTo(true));
        as(opsJwt).get("/v1/hosts/" + id).then().statusCode(200).body("name", equalTo(name))
                .body("agent_version", startsWith("0.1"));
        as(opsJwt).body(Map.of("state", "cordoned")).patch("/v1/hosts/" + id).then().statusCode(200)
                .body("state", equalTo("cordoned"));
    }
}
