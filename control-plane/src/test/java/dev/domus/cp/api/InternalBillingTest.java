// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

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
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /internal/billing/access}: the billing service (client credentials of {@code domus-billing}) asks
 * whether a JWT subject or a personal access token may read or manage an organization's billing; the answers follow
 * the control plane's membership, role and scope rules, and nobody but the billing service may ask.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class InternalBillingTest {
    static final String PATH = "/internal/billing/access";


    static Map<String, Object> ask(UUID org, String access, String key, String value) {
        Map<String, Object> m = new HashMap<>();
        if (org != null) {
            m.put("organization_id", org.toString());
        }
        m.put("access", access);
        m.put(key, value);
        return m;
    }

    JsonPath post(String token, Map<String, Object> body) {
        return given().auth().oauth2(token).contentType(ContentType.JSON).accept(ContentType.JSON).body(body)
                .post(PATH).then().statusCode(200).extract().jsonPath();
    }

    @Test
    void billingAsksWhoMayReadAnOrganization() {
        String billing = Api.clientToken("domus-billing");
        Api.Tenant t = Api.tenant("billing-access");
        Api.User viewer = Api.user("billing-viewer", false, EnumSet.of(Scope.READ));
        t.req().body(Map.of("email", viewer.email(), "role", "viewer"))
                .post("/v1/organizations/" + t.orgId() + "/members").then().statusCode(201);
        Api.User stranger = Api.user("billing-stranger", false);

        // The owner's personal token: read and manage.
        JsonPath owner = post(billing, ask(t.orgId(), "read", "personal_token", t.owner().token()));
        assertThat(owner.getBoolean("authenticated")).isTrue();
        assertThat(owner.getString("decision")).isEqualTo("allowed");
        assertThat(owner.getString("user_id")).isEqualTo(t.owner().id().toString());
        assertThat(post(billing, ask(t.orgId(), "manage", "personal_token", t.owner().token()))
                .getString("decision")).isEqualTo("allowed");
        // The owner by OIDC subject (Api users log in as "test|<email>").
        assertThat(post(billing, ask(t.orgId(), "manage", "oidc_subject", "test|" + t.owner().email()))
                .getString("decision")).isEqualTo("allowed");

        // A viewer with a read-only token reads, cannot manage.
        assertThat(post(billing, ask(t.orgId(), "read", "personal_token", viewer.token())).getString("decision"))
                .isEqualTo("allowed");
        JsonPath weak = post(billing, ask(t.orgId(), "manage", "personal_token", viewer.token()));
        assertThat(weak.getString("decision")).isEqualTo("forbidden");
        assertThat(weak.getString("reason")).isNotBlank();

        // Not a member, an unknown subject, a made-up token: not_found (no existence leak).
        assertThat(post(billing, ask(t.orgId(), "read", "personal_token", stranger.token())).getString("decision"))
                .isEqualTo("not_found");
        assertThat(post(billing, ask(t.orgId(), "read", "oidc_subject", "never-logged-in")).getString("decision"))
                .isEqualTo("not_found");
        JsonPath bogus = post(billing, ask(t.orgId(), "read", "personal_token", "dpat_" + "0".repeat(43)));
        assertThat(bogus.getBoolean("authenticated")).isFalse();
        assertThat(bogus.getString("decision")).isEqualTo("not_found");

        // Without an organization only the caller is resolved.
        JsonPath who = post(billing, ask(null, "read", "personal_token", Api.operator().token()));
        assertThat(who.getBoolean("authenticated")).isTrue();
        assertThat(who.getBoolean("operator")).isTrue();

        // Bad input, and nobody but the billing service may ask.
        Map<String, Object> both = ask(t.orgId(), "read", "personal_token", t.owner().token());
        both.put("oidc_subject", "x");
        given().auth().oauth2(billing).contentType(ContentType.JSON).body(both).post(PATH).then().statusCode(400);
        given().contentType(ContentType.JSON).body(ask(t.orgId(), "read", "oidc_subject", "x")).post(PATH).then()
                .statusCode(401);
        given().auth().oauth2(t.owner().token()).contentType(ContentType.JSON)
                .body(ask(t.orgId(), "read", "oidc_subject", "x")).post(PATH).then().statusCode(403);
        given().auth().oauth2(Api.clientToken("domus-host-agent")).contentType(ContentType.JSON)
                .body(ask(t.orgId(), "read", "oidc_subject", "x")).post(PATH).then().statusCode(403);
    }
}
