// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.domus.billing.ControlPlaneTestResource;
import dev.domus.billing.TestStreams;
import dev.domus.billing.service.IngestService;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import dev.domus.stack.KeycloakService;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Authentication and authorization of the billing API end to end: a real Keycloak issues the tokens, the real
 * control plane (child process) owns organizations, memberships and personal access tokens and answers billing's
 * access checks. Members read their organization (JWT or token), other tenants get 404, no token 401, customers on
 * operator routes 403, operators pass; the OpenAPI document declares the bearer scheme.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "billing"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = TestStreams.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ControlPlaneTestResource.class, scope = TestResourceScope.RESTRICTED_TO_CLASS)
class BillingAuthTest {
    @Inject
    IngestService ingest;

    @ConfigProperty(name = "domus.test.token-url")
    String tokenUrl;
    @ConfigProperty(name = "domus.test.user.alice.username")
    String alice;
    @ConfigProperty(name = "domus.test.user.alice.password")
    String alicePassword;
    @ConfigProperty(name = "domus.test.user.bob.username")
    String bob;
    @ConfigProperty(name = "domus.test.user.bob.password")
    String bobPassword;
    @ConfigProperty(name = "domus.test.user.ops.username")
    String ops;
    @ConfigProperty(name = "domus.test.user.ops.password")
    String opsPassword;

    String login(String user, String password) {
        return KeycloakService.passwordGrant(tokenUrl, user, password);
    }

    RequestSpecification controlPlane(String bearer) {
        // Read here, not injected: the property exists only in this class's boot (test classes are beans of every boot).
        String controlPlane = ConfigProvider.getConfig().getValue("domus.test.control-plane.url", String.class);
        return given().baseUri(controlPlane).auth().oauth2(bearer).contentType(ContentType.JSON)
                .accept(ContentType.JSON);
    }

    static RequestSpecification billing(String bearer) {
        return given().auth().oauth2(bearer).contentType(ContentType.JSON).accept(ContentType.JSON);
    }

    UUID newOrganization(String bearer, String name) {
        return UUID.fromString(controlPlane(bearer).body(Map.of("name", name + "-" + UUID.randomUUID().toString()
                .substring(0, 8))).post("/v1/organizations").then().statusCode(201).extract().path("id"));
    }

    @Test
    void membersReadTheirOrganizationOthersGet404OperatorsPass() {
        String aliceJwt = login(alice, alicePassword);
        String bobJwt = login(bob, bobPassword);
        String opsJwt = login(ops, opsPassword);
        UUID acme = newOrganization(aliceJwt, "acme");
        UUID bobs = newOrganization(bobJwt, "bobs");
        TestStreams.Stream november = TestStreams.november(acme);
        ingest.store(november.usage(), november.lifecycle());
        String balance = "/v1/billing/organizations/" + acme + "/balance";

        // Alice (owner, Keycloak JWT) reads her organization's balance and invoices.
        billing(aliceJwt).get(balance).then().statusCode(200).body("organization_id", equalTo(acme.toString()));
        billing(aliceJwt).get("/v1/billing/organizations/" + acme + "/invoices").then().statusCode(200);
        // Bob gets 404 for alice's organization, the same answer as for one that does not exist.
        JsonPath foreign = billing(bobJwt).get(balance).then().statusCode(404)
                .contentType("application/problem+json").extract().jsonPath();
        assertThat(foreign.getString("code")).isEqualTo("not_found");
        billing(bobJwt).get("/v1/billing/organizations/" + UUID.randomUUID() + "/balance").then().statusCode(404)
                .body("code", equalTo("not_found"));
        given().auth().oauth2(bobJwt).accept("application/pdf").get("/v1/billing/organizations/" + acme
                + "/invoices/" + UUID.randomUUID() + "/pdf").then().statusCode(404);
        billing(bobJwt).get("/v1/billing/organizations/" + bobs + "/balance").then().statusCode(200);

        // No token, a bad token: 401 with a challenge.
        given().get(balance).then().statusCode(401).header("WWW-Authenticate", "Bearer")
                .body("code", equalTo("unauthenticated"));
        billing("not-a-jwt").get(balance).then().statusCode(401);
        billing("dpat_" + "x".repeat(43)).get(balance).then().statusCode(401);

        // A customer on operator routes: 403; the operator: 200/201, also on tenant routes.
        billing(aliceJwt).get("/v1/billing/prices").then().statusCode(403).body("code", equalTo("forbidden"));
        Map<String, Object> credit = Map.of("kind", "credit", "description", "goodwill", "amount_minor", -100);
        billing(aliceJwt).body(credit).post("/v1/billing/organizations/" + acme + "/adjustments").then()
                .statusCode(403);
        billing(opsJwt).get("/v1/billing/prices").then().statusCode(200);
        billing(opsJwt).body(credit).post("/v1/billing/organizations/" + acme + "/adjustments").then()
                .statusCode(201);
        billing(opsJwt).get(balance).then().statusCode(200);

        // Alice's personal access token (read scope only), which only the control plane can resolve.
        String pat = controlPlane(aliceJwt).body(Map.of("name", "billing-read", "scopes", List.of("read")))
                .post("/v1/tokens").then().statusCode(201).extract().path("secret");
        billing(pat).get(balance).then().statusCode(200).body("organization_id", equalTo(acme.toString()));
        billing(pat).get("/v1/billing/organizations/" + bobs + "/balance").then().statusCode(404);
        // Changing settings needs scope write (and role admin): a read token is refused, alice's JWT is not.
        billing(pat).body(Map.of("threshold_minor", 500)).put("/v1/billing/organizations/" + acme
                + "/alert-threshold").then().statusCode(403);
        billing(aliceJwt).body(Map.of("threshold_minor", 500)).put("/v1/billing/organizations/" + acme
                + "/alert-threshold").then().statusCode(200);
        billing(pat).get("/v1/billing/prices").then().statusCode(403);
    }

    @Test
    void theOpenApiDocumentDeclaresTheBearerScheme() {
        JsonPath doc = given().accept(ContentType.JSON).get("/q/openapi?format=json").then().statusCode(200)
                .extract().jsonPath();
        assertThat(doc.getString("components.securitySchemes.bearer.type")).isEqualTo("http");
        assertThat(doc.getString("components.securitySchemes.bearer.scheme")).isEqualTo("bearer");
        assertThat(doc.getList("security")).isNotEmpty();
        assertThat(doc.getMap("paths.'/v1/billing/prices'.get.responses")).containsKeys("401", "403");
        assertThat(doc.getMap("paths.'/v1/billing/organizations/{organization_id}/balance'.get.responses"))
                .containsKeys("401", "404");
    }
}
