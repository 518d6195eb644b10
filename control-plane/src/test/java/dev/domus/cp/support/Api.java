// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.support;

import static io.restassured.RestAssured.given;

import dev.domus.cp.domain.Scope;
import dev.domus.cp.domain.UserEntity;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.TokenService;
import dev.domus.cp.service.UserService;
import io.quarkus.arc.Arc;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Test helpers: users with personal access tokens (created through the real services, as an OIDC login followed by
 * {@code POST /v1/tokens} would), and request specs that validate every response against the OpenAPI document.
 */
public final class Api {
    private Api() {
    }

    /** A user and one of their tokens. */
    public record User(UUID id, String email, String token) {
        public RequestSpecification req() {
            return given().filter(OpenApiContract.filter()).auth().oauth2(token).contentType(ContentType.JSON)
                    .accept(ContentType.JSON);
        }
    }

    /** A user with a project in an organization of their own. */
    public record Tenant(User owner, UUID orgId, UUID projectId) {
        public RequestSpecification req() {
            return owner.req();
        }
    }

    public static User user(String name, boolean operator) {
        return user(name, operator, EnumSet.allOf(Scope.class));
    }

    public static User user(String name, boolean operator, Set<Scope> scopes) {
        String email = name + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        UserEntity u = Arc.container().instance(UserService.class).get().resolveOidc("test|" + email, email, operator);
        Caller c = new Caller(u.id, u.email, operator, false, Caller.Kind.OIDC, EnumSet.allOf(Scope.class),
                Optional.empty());
        String secret = Arc.container().instance(TokenService.class).get()
                .create(c, "test", scopes, Optional.empty()).secret();
        return new User(u.id, u.email, secret);
    }

    public static RequestSpecification anonymous() {
        return given().filter(OpenApiContract.filter()).contentType(ContentType.JSON).accept(ContentType.JSON);
    }

    /** A fresh organization + project owned by a fresh user. */
    public static Tenant tenant(String name) {
        User owner = user(name, false);
        String org = name + "-" + UUID.randomUUID().toString().substring(0, 8);
        UUID orgId = UUID.fromString(owner.req().body(Map.of("name", org)).post("/v1/organizations")
                .then().statusCode(201).extract().path("id"));
        UUID projectId = UUID.fromString(owner.req().body(Map.of("name", "main")).post(
                "/v1/organizations/" + orgId + "/projects").then().statusCode(201).extract().path("id"));
        return new Tenant(owner, orgId, projectId);
    }

    /** The shared operator of the test run. */
    public static synchronized User operator() {
        if (operator == null) {
            operator = user("ops", true);
        }
        return operator;
    }

    private static User operator;

    /** Registers a big host in local-1 so creates have somewhere to go; returns its id. */
    public static synchronized UUID host() {
        if (host == null) {
            host = UUID.fromString(operator().req().body(Map.of("name", "host-" + UUID.randomUUID().toString()
                            .substring(0, 8), "region", "local-1", "capacity",
                    Map.of("vcpus", 4096, "memory_mb", 67108864L, "disk_gb", 1048576L)))
                    .post("/v1/hosts").then().statusCode(201).extract().path("id"));
        }
        return host;
    }

    private static UUID host;

    /**
     * An access token of a Keycloak confidential client of the test realm ({@code domus-host-agent},
     * {@code domus-billing}) by the client-credentials grant, as the agent or the billing service gets one.
     */
    public static String clientToken(String clientId) {
        org.eclipse.microprofile.config.Config c = org.eclipse.microprofile.config.ConfigProvider.getConfig();
        return given().formParam("grant_type", "client_credentials").formParam("client_id", clientId)
                .formParam("client_secret", c.getValue("domus.test.client." + clientId + ".secret", String.class))
                .post(c.getValue("domus.test.token-url", String.class)).then().statusCode(200).extract()
                .path("access_token");
    }

    /** A valid server create body. */
    public static Map<String, Object> vps(String name) {
        return Map.of("name", name, "plan", "s-1", "image", "debian-12", "region", "local-1");
    }
}
