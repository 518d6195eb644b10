// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack.quarkus;

import dev.domus.stack.KeycloakService;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

/** The three test resources inside a real {@code @QuarkusTest}: datasource, Kafka config and OIDC bearer auth. */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "qtest"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = "domus.qtest:2"))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class QuarkusResourcesIT {

    @Inject
    DataSource dataSource;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "domus.test.client.domus-host-agent.secret")
    String hostAgentSecret;

    @ConfigProperty(name = "domus.test.user.alice.username")
    String alice;

    @ConfigProperty(name = "domus.test.user.alice.password")
    String alicePassword;

    @ConfigProperty(name = "domus.test.token-url")
    String tokenUrl;

    @Test
    void datasourceIsTheRealDatabaseNamedByTheInitArg() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select current_database(), version()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("qtest");
            assertThat(rs.getString(2)).startsWith("PostgreSQL 17");
        }
    }

    @Test
    void kafkaHandleIsTheBrokerTheAppWasGiven() {
        System.out.println("default app: kafka " + bootstrap + " pid " + KafkaTestResource.service().pid()
                + " loader " + KafkaTestResource.class.getClassLoader());
        assertThat(bootstrap).isEqualTo(KafkaTestResource.service().bootstrapServers());
    }

    @Test
    void bearerTokensFromTheRealKeycloakAreCheckedForRoleAndAudience() {
        String agentToken = given().formParam("grant_type", "client_credentials")
                .formParam("client_id", "domus-host-agent").formParam("client_secret", hostAgentSecret)
                .post(tokenUrl).then().statusCode(200).extract().path("access_token");
        String aliceToken = KeycloakService.passwordGrant(tokenUrl, alice, alicePassword);

        given().auth().oauth2(agentToken).get("/whoami").then().statusCode(200)
                .body(equalTo("service-account-domus-host-agent"));
        given().auth().oauth2(aliceToken).get("/whoami").then().statusCode(403);
        given().get("/whoami").then().statusCode(401);
        assertThat(RestAssured.port).isPositive();
    }
}
