// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static dev.domus.cp.api.LifecycleApiTest.await;
import static dev.domus.cp.api.LifecycleApiTest.done;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostCommandType;
import dev.domus.cp.support.Api;
import dev.domus.cp.support.Kafka;
import dev.domus.cp.support.StackResources;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The IP pool: a host registered with a VPS network hands out the lowest free address at placement, the API shows
 * it (with the gateway and the MAC), host commands and the desired state carry it, an exhausted pool is a clear
 * 503 that reserves nothing, and a deleted server's address is handed out again. Runs in a region of its own so
 * that the pool host is the only candidate.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class IpPoolTest {
    @Inject
    EntityManager em;

    private String region() {
        String name = "pool-" + UUID.randomUUID().toString().substring(0, 8);
        QuarkusTransaction.requiringNew().run(() -> em.createNativeQuery(
                "INSERT INTO regions (id, name, display_name, available) VALUES (?1, ?2, ?2, true)")
                .setParameter(1, UUID.randomUUID()).setParameter(2, name).executeUpdate());
        return name;
    }

    private static UUID host(String region, Map<String, Object> network) {
        Map<String, Object> b = new HashMap<>(Map.of("name", "pool-host-" + UUID.randomUUID().toString().substring(0, 8),
                "region", region, "capacity", Map.of("vcpus", 64, "memory_mb", 65536, "disk_gb", 10000)));
        b.put("vps_network", network);
        return UUID.fromString(Api.operator().req().body(b).post("/v1/hosts").then().statusCode(201)
                .body("vps_network.gateway", equalTo(network.get("gateway"))).extract().path("id"));
    }

    private static Map<String, Object> vps(String name, String region) {
        return Map.of("name", name, "plan", "s-1", "image", "debian-12", "region", region);
    }

    @Test
    void addressesComeFromTheHostPoolAndAreReusedAfterDelete() {
        String region = region();
        // Gateway .1 lies inside the range 1..3: it is skipped, so the pool has .2 and .3.
        UUID host = host(region, Map.of("gateway", "10.123.0.1/24", "pool_first", 1, "pool_last", 3));
        Api.Tenant t = Api.tenant("pool");
        String path = "/v1/projects/" + t.projectId() + "/vps";

        Response a = t.req().body(vps("a", region)).post(path);
        a.then().statusCode(202).body("vps.host_id", equalTo(host.toString()))
                .body("vps.ipv4", hasSize(1)).body("vps.ipv4[0].address", equalTo("10.123.0.2"))
                .body("vps.ipv4[0].prefix_length", equalTo(24)).body("vps.ipv4[0].gateway", equalTo("10.123.0.1"))
                .body("vps.mac_address", matchesPattern("02(:[0-9a-f]{2}){5}"));
        String aId = a.path("vps.id");
        String b = t.req().body(vps("b", region)).post(path).then().statusCode(202)
                .body("vps.ipv4[0].address", equalTo("10.123.0.3")).extract().path("vps.id");
        // The list shows the addresses too.
        t.req().get(path).then().statusCode(200).body("items.find { it.id == '" + b + "' }.ipv4[0].address",
                equalTo("10.123.0.3"));

        // The create command carries the address, the plan and the owner (for usage events).
        List<HostCommand> cmds = Kafka.commands(c -> c.vpsId().toString().equals(aId)
                && c.type() == HostCommandType.CREATE, Duration.ofSeconds(60));
        assertThat(cmds).hasSize(1);
        assertThat(cmds.getFirst().spec()).get().satisfies(s -> {
            assertThat(s.ip()).contains("10.123.0.2/24");
            assertThat(s.plan()).contains("s-1");
            assertThat(s.organizationId()).contains(t.orgId());
            assertThat(s.projectId()).contains(t.projectId());
        });

        // Exhausted: a clear 503, and nothing was reserved (quota still 2 servers).
        t.req().body(vps("c", region)).post(path).then().statusCode(503).body("code", equalTo("no_address"));
        t.req().get("/v1/projects/" + t.projectId() + "/quotas").then()
                .body("items.find { it.resource == 'vps' }.used", equalTo(2));

        // The desired state carries the address.
        Api.operator().req().get("/internal/hosts/" + host + "/desired").then().statusCode(200)
                .body("vps.find { it.vps_id == '" + aId + "' }.ip", equalTo("10.123.0.2/24"));

        // Delete a: its address is free again, and the desired state lists it as deleted (agents may destroy it).
        Kafka.send(done(host, aId, a.path("action.id")));
        await("a running", () -> "running".equals(t.req().get("/v1/vps/" + aId).then().extract().path("status")));
        String del = t.req().delete("/v1/vps/" + aId).then().statusCode(202).extract().path("id");
        Api.operator().req().get("/internal/hosts/" + host + "/desired").then().statusCode(200)
                .body("deleted", hasItem(aId)).body("vps.vps_id", not(hasItem(aId)));
        Kafka.send(done(host, aId, del));
        await("a deleted", () -> t.req().get("/v1/vps/" + aId).statusCode() == 404);
        t.req().body(vps("c", region)).post(path).then().statusCode(202)
                .body("vps.ipv4[0].address", equalTo("10.123.0.2"));
        Api.operator().req().get("/internal/hosts/" + host + "/desired").then().statusCode(200)
                .body("deleted", hasItem(aId));
    }

    @Test
    void aHostWithoutNetworkGivesNoAddressAndBadNetworksAreRefused() {
        String region = region();
        Api.operator().req().body(Map.of("name", "nonet-" + UUID.randomUUID().toString().substring(0, 8),
                "region", region, "capacity", Map.of("vcpus", 8, "memory_mb", 8192, "disk_gb", 100)))
                .post("/v1/hosts").then().statusCode(201);
        Api.Tenant t = Api.tenant("nonet");
        t.req().body(vps("x", region)).post("/v1/projects/" + t.projectId() + "/vps").then().statusCode(202)
                .body("vps.ipv4", hasSize(0)).body("vps.mac_address", matchesPattern("02(:[0-9a-f]{2}){5}"));

        for (Map<String, Object> bad : List.<Map<String, Object>>of(
                Map.of("gateway", "10.1.0.1/24", "pool_first", 10, "pool_last", 255),
                Map.of("gateway", "10.1.0.1/24", "pool_first", 20, "pool_last", 10),
                Map.of("gateway", "10.1.300.1/24", "pool_first", 10, "pool_last", 20),
                Map.of("gateway", "10.1.0.1", "pool_first", 10, "pool_last", 20))) {
            Map<String, Object> b = new HashMap<>(Map.of("name", "bad-" + UUID.randomUUID().toString().substring(0, 8),
                    "region", region, "capacity", Map.of("vcpus", 8, "memory_mb", 8192, "disk_gb", 100)));
            b.put("vps_network", bad);
            Api.operator().req().body(b).post("/v1/hosts").then().statusCode(400);
        }
    }
}
