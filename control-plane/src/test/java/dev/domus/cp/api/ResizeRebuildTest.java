// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static dev.domus.cp.api.LifecycleApiTest.await;
import static dev.domus.cp.api.LifecycleApiTest.done;
import static dev.domus.cp.api.LifecycleApiTest.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Plan changes and rebuilds through the public API: resize only while off (409 otherwise), never to a smaller disk
 * (422 {@code disk_shrink}), within quota (reserved when the action starts, given back when it fails or shrinks),
 * the host command carrying the target plan; rebuild keeps id, address and keys and ends running.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class ResizeRebuildTest {

    private static int used(Api.Tenant t, String resource) {
        return t.req().get("/v1/projects/" + t.projectId() + "/quotas").then().statusCode(200).extract()
                .path("items.find { it.resource == '" + resource + "' }.used");
    }

    private static HostCommand command(String vps, String action) {
        List<HostCommand> c = Kafka.commands(x -> x.actionId().toString().equals(action), Duration.ofSeconds(60));
        assertThat(c).as("command of action " + action + " of " + vps).hasSize(1);
        return c.getFirst();
    }

    private static String action(Api.Tenant t, String vps, Map<String, Object> body) {
        return t.req().body(body).post("/v1/vps/" + vps + "/actions").then().statusCode(202).extract().path("id");
    }

    @Test
    void resizeWhileOffWithinQuotaAndNeverShrinkingTheDisk() {
        UUID host = Api.host();
        Api.Tenant t = Api.tenant("resize");
        Response created = t.req().body(Api.vps("r-1")).post("/v1/projects/" + t.projectId() + "/vps");
        String vps = created.path("vps.id");
        Kafka.send(done(host, vps, created.path("action.id")));
        await("running", () -> "running".equals(status(t, vps)));

        // Running: resize is refused (stop first).
        t.req().body(Map.of("type", "resize", "plan", "s-2")).post("/v1/vps/" + vps + "/actions").then()
                .statusCode(409).body("code", equalTo("illegal_transition"));
        Kafka.send(done(host, vps, action(t, vps, Map.of("type", "power_off"))));
        await("off", () -> "off".equals(status(t, vps)));
        // Without a plan: 400; an unknown plan: 422.
        t.req().body(Map.of("type", "resize")).post("/v1/vps/" + vps + "/actions").then().statusCode(400);
        t.req().body(Map.of("type", "resize", "plan", "no-such")).post("/v1/vps/" + vps + "/actions").then()
                .statusCode(422).body("code", equalTo("invalid_reference"));

        // Over quota (free tier: 4096 MiB): 409 quota_exceeded, nothing reserved.
        t.req().body(Map.of("type", "resize", "plan", "s-4")).post("/v1/vps/" + vps + "/actions").then()
                .statusCode(409).body("code", equalTo("quota_exceeded"));
        assertThat(used(t, "memory_mb")).isEqualTo(512);

        // s-1 -> s-2: reserved at once, the command carries the target plan, success changes the server.
        String resize = action(t, vps, Map.of("type", "resize", "plan", "s-2"));
        assertThat(status(t, vps)).isEqualTo("resizing");
        assertThat(used(t, "memory_mb")).isEqualTo(2048);
        assertThat(used(t, "disk_gb")).isEqualTo(40);
        t.req().body(Map.of("type", "power_on")).post("/v1/vps/" + vps + "/actions").then().statusCode(409)
                .body("code", equalTo("locked"));
        // While it resizes, the desired state says "off": a reconcile pass must not start it mid-resize.
        Api.operator().req().get("/internal/hosts/" + host + "/desired").then().statusCode(200)
                .body("vps.find { it.vps_id == '" + vps + "' }.power", equalTo("off"));
        HostCommand cmd = command(vps, resize);
        assertThat(cmd.type()).isEqualTo(HostCommandType.RESIZE);
        assertThat(cmd.spec()).get().satisfies(s -> {
            assertThat(s.plan()).contains("s-2");
            assertThat(s.vcpus()).isEqualTo(2);
            assertThat(s.memoryMb()).isEqualTo(2048);
            assertThat(s.diskGb()).isEqualTo(40);
            assertThat(s.organizationId()).contains(t.orgId());
        });
        Kafka.send(done(host, vps, resize));
        await("resized", () -> "s-2".equals(t.req().get("/v1/vps/" + vps).then().extract().path("plan")));
        t.req().get("/v1/vps/" + vps).then().body("status", equalTo("off")).body("vcpus", equalTo(2))
                .body("memory_mb", equalTo(2048)).body("disk_gb", equalTo(40));

        // Back to s-1 would shrink the disk: 422 disk_shrink.
        t.req().body(Map.of("type", "resize", "plan", "s-1")).post("/v1/vps/" + vps + "/actions").then()
                .statusCode(422).body("code", equalTo("disk_shrink"));

        // A failed resize gives the reservation back and leaves the plan.
        Api.operator().req().body(Map.of("resource", "memory_mb", "limit", 100000))
                .put("/v1/projects/" + t.projectId() + "/quotas").then().statusCode(200);
        Api.operator().req().body(Map.of("resource", "vcpus", "limit", 100))
                .put("/v1/projects/" + t.projectId() + "/quotas").then().statusCode(200);
        String big = action(t, vps, Map.of("type", "resize", "plan", "s-4"));
        assertThat(used(t, "memory_mb")).isEqualTo(8192);
        Kafka.send(HostEvent.action(HostEventType.ACTION_FAILED, host, UUID.fromString(vps), UUID.fromString(big), 50,
                Optional.of("disk_resize_failed"), Optional.of("resize2fs failed")));
        await("resize failed", () -> "error".equals(t.req().get("/v1/actions/" + big).then().extract().path("status")));
        t.req().get("/v1/vps/" + vps).then().body("status", equalTo("off")).body("plan", equalTo("s-2"));
        assertThat(used(t, "memory_mb")).isEqualTo(2048);
        assertThat(used(t, "vcpus")).isEqualTo(2);
    }

    @Test
    void rebuildKeepsIdAddressAndKeysAndEndsRunning() {
        UUID host = Api.host();
        Api.Tenant t = Api.tenant("rebuild");
        String pub = SshPublicKeyFixtures.ed25519();
        String key = t.req().body(Map.of("name", "k", "public_key", pub))
                .post("/v1/projects/" + t.projectId() + "/ssh-keys").then().statusCode(201).extract().path("id");
        Map<String, Object> body = new java.util.HashMap<>(Api.vps("rb-1"));
        body.put("ssh_keys", List.of(key));
        Response created = t.req().body(body).post("/v1/projects/" + t.projectId() + "/vps");
        String vps = created.path("vps.id");
        Kafka.send(done(host, vps, created.path("action.id")));
        await("running", () -> "running".equals(status(t, vps)));

        t.req().body(Map.of("type", "rebuild")).post("/v1/vps/" + vps + "/actions").then().statusCode(400);
        t.req().body(Map.of("type", "rebuild", "image", "no-such")).post("/v1/vps/" + vps + "/actions").then()
                .statusCode(422).body("code", equalTo("invalid_reference"));
        String rebuild = action(t, vps, Map.of("type", "rebuild", "image", "debian-12"));
        assertThat(status(t, vps)).isEqualTo("rebuilding");
        HostCommand cmd = command(vps, rebuild);
        assertThat(cmd.type()).isEqualTo(HostCommandType.REBUILD);
        assertThat(cmd.spec()).get().satisfies(s -> {
            assertThat(s.image()).isEqualTo("debian-12");
            assertThat(s.sshKeys()).hasSize(1).allSatisfy(k -> assertThat(pub).startsWith(k.strip().split(" ")[0]
                    + " " + k.strip().split(" ")[1]));
            assertThat(s.plan()).contains("s-1");
        });
        Kafka.send(done(host, vps, rebuild));
        await("rebuilt", () -> "running".equals(status(t, vps)));
        t.req().get("/v1/vps/" + vps).then().body("id", equalTo(vps)).body("ssh_keys[0]", equalTo(key))
                .body("image", equalTo("debian-12"));
    }
}
