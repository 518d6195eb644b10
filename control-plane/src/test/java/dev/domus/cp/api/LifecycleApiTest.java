// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;

import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostCommandType;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostEventType;
import dev.domus.cp.support.Api;
import dev.domus.cp.support.Kafka;
import dev.domus.cp.support.StackResources;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The server lifecycle end to end through the real broker: create (202 + action, readable at once, host command
 * relayed through the outbox), lock while the action runs, host events finishing actions (deduplicated), the
 * state machine refusing illegal transitions, idempotent retries, labels and pagination, delete.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class LifecycleApiTest {

    static void await(String what, Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.get()) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    static String status(Api.Tenant t, String vpsId) {
        return t.req().get("/v1/vps/" + vpsId).then().statusCode(200).extract().path("status");
    }

    static HostEvent done(UUID host, String vps, String action) {
        return HostEvent.action(HostEventType.ACTION_SUCCEEDED, host, UUID.fromString(vps), UUID.fromString(action), 100,
                Optional.empty(), Optional.empty());
    }

    @Test
    void createRunStopRebootDelete() {
        UUID host = Api.host();
        Api.Tenant t = Api.tenant("life");
        Response created = t.req().body(Api.vps("web-1")).post("/v1/projects/" + t.projectId() + "/vps");
        created.then().statusCode(202).body("vps.status", equalTo("creating")).body("action.type", equalTo("create"))
                .body("action.status", equalTo("running")).body("vps.locked", equalTo(true));
        String vps = created.path("vps.id");
        String createAction = created.path("action.id");
        assertThat(created.header("Location")).endsWith("/v1/vps/" + vps);

        // No 404 right after create, and the action is pollable.
        t.req().get("/v1/vps/" + vps).then().statusCode(200).body("host_id", equalTo(host.toString()));
        t.req().get("/v1/actions/" + createAction).then().statusCode(200).body("status", equalTo("running"));

        // A running action locks the server.
        t.req().body(Map.of("type", "reboot")).post("/v1/vps/" + vps + "/actions").then().statusCode(409)
                .body("code", equalTo("locked"));

        // The outbox relayed the create command to the host's partition key.
        List<HostCommand> cmds = Kafka.commands(c -> c.vpsId().toString().equals(vps), Duration.ofSeconds(60));
        assertThat(cmds).hasSize(1);
        HostCommand cmd = cmds.getFirst();
        assertThat(cmd.type()).isEqualTo(HostCommandType.CREATE);
        assertThat(cmd.hostId()).isEqualTo(host);
        assertThat(cmd.actionId().toString()).isEqualTo(createAction);
        assertThat(cmd.spec()).get().satisfies(s -> {
            assertThat(s.vcpus()).isEqualTo(1);
            assertThat(s.image()).isEqualTo("debian-12");
        });

        // Progress, then success; the same success event sent twice is applied once.
        Kafka.send(HostEvent.action(HostEventType.ACTION_PROGRESS, host, UUID.fromString(vps),
                UUID.fromString(createAction), 40, Optional.empty(), Optional.empty()));
        await("progress 40", () -> Integer.valueOf(40).equals(
                t.req().get("/v1/actions/" + createAction).then().extract().path("progress")));
        HostEvent ok = done(host, vps, createAction);
        Kafka.send(ok);
        await("running", () -> "running".equals(status(t, vps)));
        t.req().get("/v1/actions/" + createAction).then().body("status", equalTo("success"))
                .body("progress", equalTo(100)).body("finished_at", notNullValue());

        // power_off -> off; a duplicate of the old create success must not bring it back to running.
        String off = t.req().body(Map.of("type", "power_off")).post("/v1/vps/" + vps + "/actions").then()
                .statusCode(202).body("type", equalTo("power_off")).extract().path("id");
        assertThat(status(t, vps)).isEqualTo("stopping");
        Kafka.send(ok);
        Kafka.send(done(host, vps, off));
        await("off", () -> "off".equals(status(t, vps)));

        // Illegal transitions are refused with a clear problem.
        t.req().body(Map.of("type", "reboot")).post("/v1/vps/" + vps + "/actions").then().statusCode(409)
                .body("code", equalTo("illegal_transition"))
                .body("detail", equalTo("cannot reboot a server that is off; allowed from: running, rescue"));
        t.req().body(Map.of("type", "shutdown")).post("/v1/vps/" + vps + "/actions").then().statusCode(409)
                .body("code", equalTo("illegal_transition"));

        // A failed power_on leaves the server off with the host's error on the action.
        String on = t.req().body(Map.of("type", "power_on")).post("/v1/vps/" + vps + "/actions").then()
                .statusCode(202).extract().path("id");
        Kafka.send(HostEvent.action(HostEventType.ACTION_FAILED, host, UUID.fromString(vps), UUID.fromString(on), 10,
                Optional.of("domain_start_failed"), Optional.of("runner exited with 1")));
        await("power_on failed", () -> "error".equals(t.req().get("/v1/actions/" + on).then().extract().path("status")));
        t.req().get("/v1/actions/" + on).then().body("error.code", equalTo("domain_start_failed"));
        assertThat(status(t, vps)).isEqualTo("off");

        // Resize while off grows the server and its quota usage.
        String resize = t.req().body(Map.of("type", "resize", "plan", "s-2")).post("/v1/vps/" + vps + "/actions")
                .then().statusCode(202).extract().path("id");
        Kafka.send(done(host, vps, resize));
        await("resized", () -> Integer.valueOf(2).equals(t.req().get("/v1/vps/" + vps).then().extract().path("vcpus")));
        t.req().get("/v1/vps/" + vps).then().body("plan", equalTo("s-2")).body("status", equalTo("off"))
                .body("memory_mb", equalTo(2048));

        // Delete: 202, then gone (404) and the quota is free again.
        String del = t.req().delete("/v1/vps/" + vps).then().statusCode(202).body("type", equalTo("delete"))
                .extract().path("id");
        Kafka.send(done(host, vps, del));
        await("deleted", () -> t.req().get("/v1/vps/" + vps).statusCode() == 404);
        t.req().get("/v1/projects/" + t.projectId() + "/quotas").then().statusCode(200)
                .body("items.find { it.resource == 'vps' }.used", equalTo(0))
                .body("items.find { it.resource == 'vcpus' }.used", equalTo(0));
    }

    static HostEvent state(UUID host, String vps, String state, String code, String message) {
        return new HostEvent(1, UUID.randomUUID(), HostEventType.VPS_STATE,
                host, java.time.Instant.now(), Optional.of(UUID.fromString(vps)), Optional.empty(),
                java.util.OptionalInt.empty(), Optional.of(state), Optional.ofNullable(code), Optional.ofNullable(message),
                java.util.OptionalInt.empty());
    }

    @Test
    void crashesAndRestartsAreEventsOfTheServer() {
        UUID host = Api.host();
        Api.Tenant t = Api.tenant("events");
        Response created = t.req().body(Api.vps("crashy")).post("/v1/projects/" + t.projectId() + "/vps");
        String vps = created.path("vps.id");
        Kafka.send(done(host, vps, created.path("action.id")));
        await("running", () -> "running".equals(status(t, vps)));
        t.req().get("/v1/vps/" + vps + "/events").then().statusCode(200).body("items", hasSize(0));

        HostEvent crashed = state(host, vps, "off", "domain_crashed", "domain runner died");
        Kafka.send(crashed);
        Kafka.send(crashed);
        Kafka.send(state(UUID.randomUUID(), vps, "off", "domain_crashed", "from a host that does not hold it"));
        Kafka.send(state(host, vps, "running", "domain_restarted", "restart 1 after domain runner died"));
        await("two events", () -> t.req().get("/v1/vps/" + vps + "/events").then().extract()
                .<List<Object>>path("items").size() == 2);
        t.req().get("/v1/vps/" + vps + "/events").then().statusCode(200)
                .body("items[0].type", equalTo("crashed")).body("items[0].state", equalTo("off"))
                .body("items[0].code", equalTo("domain_crashed")).body("items[0].host_id", equalTo(host.toString()))
                .body("items[1].type", equalTo("restarted")).body("items[1].message",
                        equalTo("restart 1 after domain runner died"));
        assertThat(status(t, vps)).isEqualTo("running");
        // Pages: oldest first, the cursor continues after the first.
        String next = t.req().get("/v1/vps/" + vps + "/events?page_size=1").then().statusCode(200)
                .body("items", hasSize(1)).body("items[0].type", equalTo("crashed")).extract().path("next_page_token");
        t.req().get("/v1/vps/" + vps + "/events?page_size=1&page_token=" + next).then().statusCode(200)
                .body("items[0].type", equalTo("restarted"));
        // Another tenant does not see them.
        Api.tenant("events-other").req().get("/v1/vps/" + vps + "/events").then().statusCode(404);
    }

    @Test
    void idempotentCreate() {
        Api.host();
        Api.Tenant t = Api.tenant("idem");
        String key = "key-" + UUID.randomUUID();
        String path = "/v1/projects/" + t.projectId() + "/vps";
        Response first = t.req().header("Idempotency-Key", key).body(Api.vps("api-1")).post(path);
        first.then().statusCode(202);
        Response retry = t.req().header("Idempotency-Key", key).body(Api.vps("api-1")).post(path);
        retry.then().statusCode(202);
        assertThat(retry.asString()).isEqualTo(first.asString());
        t.req().get(path).then().statusCode(200).body("items", hasSize(1));

        Map<String, Object> other = new HashMap<>(Api.vps("api-2"));
        t.req().header("Idempotency-Key", key).body(other).post(path).then().statusCode(422)
                .body("code", equalTo("idempotency_key_reused"));
        t.req().get(path).then().body("items", hasSize(1));

        // Without a key a retry is a second create, which the unique name refuses.
        t.req().body(Api.vps("api-1")).post(path).then().statusCode(409).body("code", equalTo("already_exists"));
    }

    @Test
    void labelsFiltersAndPagination() {
        Api.host();
        Api.Tenant t = Api.tenant("labels");
        Api.operator().req().body(Map.of("resource", "vps", "limit", 10)).put("/v1/projects/" + t.projectId() + "/quotas")
                .then().statusCode(200);
        Api.operator().req().body(Map.of("resource", "vcpus", "limit", 10)).put("/v1/projects/" + t.projectId() + "/quotas")
                .then().statusCode(200);
        String path = "/v1/projects/" + t.projectId() + "/vps";
        for (int i = 0; i < 5; i++) {
            Map<String, Object> b = new HashMap<>(Api.vps("n-" + i));
            b.put("labels", i % 2 == 0 ? Map.of("env", "prod", "tier", "web") : Map.of("env", "dev"));
            t.req().body(b).post(path).then().statusCode(202);
        }
        t.req().queryParam("label_selector", "env=prod").get(path).then().body("items", hasSize(3));
        t.req().queryParam("label_selector", "env!=prod").get(path).then().body("items", hasSize(2));
        t.req().queryParam("label_selector", "tier").get(path).then().body("items", hasSize(3));
        t.req().queryParam("label_selector", "!tier,env=dev").get(path).then().body("items", hasSize(2));
        t.req().queryParam("name", "n-3").get(path).then().body("items", hasSize(1)).body("items[0].name", equalTo("n-3"));
        t.req().queryParam("label_selector", "Bad Key").get(path).then().statusCode(400)
                .body("code", equalTo("validation_failed"));

        // Keyset pages: 2 + 2 + 1, in creation order, no duplicates.
        Response p1 = t.req().queryParam("page_size", 2).get(path);
        p1.then().body("items", hasSize(2)).body("items[0].name", equalTo("n-0"));
        Response p2 = t.req().queryParam("page_size", 2).queryParam("page_token", p1.<String>path("next_page_token"))
                .get(path);
        p2.then().body("items", hasSize(2)).body("items[0].name", equalTo("n-2"));
        Response p3 = t.req().queryParam("page_size", 2).queryParam("page_token", p2.<String>path("next_page_token"))
                .get(path);
        p3.then().body("items", hasSize(1)).body("items[0].name", equalTo("n-4"));
        assertThat(p3.<String>path("next_page_token")).isNull();

        // Update name and labels (labels replace the map).
        String id = p1.path("items[0].id");
        t.req().body(Map.of("name", "renamed", "labels", Map.of("env", "staging"))).patch("/v1/vps/" + id).then()
                .statusCode(200).body("name", equalTo("renamed")).body("labels.env", equalTo("staging"))
                .body("labels.tier", org.hamcrest.Matchers.nullValue());
    }
}
