// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.cp.domain.VpsEntity;
import dev.domus.cp.support.Api;
import dev.domus.cp.support.StackResources;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The internal host API (issue 8, {@code api-spec/internal-openapi.yaml}): a host agent authenticated with Keycloak
 * client credentials reads the desired state of its host; customers cannot; power follows the server's status.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class InternalHostsTest {
    @Test
    void agentReadsTheDesiredStateOfItsHost() {
        Api.host();
        Api.Tenant t = Api.tenant("desired");
        UUID vps = UUID.fromString(t.req().body(Api.vps("web-1")).post("/v1/projects/" + t.projectId() + "/vps")
                .then().statusCode(202).extract().path("vps.id"));
        UUID host = QuarkusTransaction.requiringNew().call(() -> VpsEntity.<VpsEntity>findById(vps).hostId);
        assertThat(host).isNotNull();
        String path = "/internal/hosts/" + host + "/desired";

        given().get(path).then().statusCode(401);
        given().auth().oauth2(t.owner().token()).get(path).then().statusCode(403);

        String agent = Api.clientToken("domus-host-agent");
        JsonPath body = given().auth().oauth2(agent).accept(ContentType.JSON).get(path).then().statusCode(200)
                .extract().jsonPath();
        assertThat(body.getString("host_id")).isEqualTo(host.toString());
        List<Map<String, Object>> items = body.getList("vps");
        Map<String, Object> mine = items.stream().filter(m -> m.get("vps_id").equals(vps.toString())).findFirst()
                .orElseThrow(() -> new AssertionError("VPS " + vps + " not in " + items));
        assertThat(mine).containsEntry("name", "web-1").containsEntry("image", "debian-12").containsEntry("plan", "s-1")
                .containsEntry("power", "on").containsEntry("organization_id", t.orgId().toString())
                .containsEntry("project_id", t.projectId().toString());
        assertThat(((Number) mine.get("memory_mb")).intValue()).isGreaterThanOrEqualTo(64);

        given().auth().oauth2(agent).get("/internal/hosts/" + UUID.randomUUID() + "/desired").then().statusCode(404);
    }
}
