// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static dev.domus.cp.api.LifecycleApiTest.await;
import static dev.domus.cp.api.LifecycleApiTest.done;
import static dev.domus.cp.api.LifecycleApiTest.status;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostCommandType;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostEventType;
import dev.domus.cp.domain.HostEntity;
import dev.domus.cp.domain.VpsEntity;
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
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Actions that never finish (issue 8), on the real PostgreSQL, Kafka and Keycloak with the test playing a host
 * agent that loses or ignores commands: a command the agent never acknowledged is re-published with the same
 * command id when the agent fetches its desired state, and then completes normally; an action whose host never
 * answers ends {@code error}/{@code host_unreachable} at its deadline with its reservation given back exactly
 * once; one the host acknowledged but never finished ends {@code error}/{@code timeout}. Short deadlines come from
 * {@link ShortDeadlines}, a profile of its own (one Quarkus boot for this class only).
 */
@QuarkusTest
@TestProfile(ActionDeadlineIT.ShortDeadlines.class)
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class ActionDeadlineIT {
    static final Duration SHORT = Duration.ofSeconds(6);

    /** Deadlines short enough for a test; everything else has a minute, far beyond what the steps take. */
    public static class ShortDeadlines implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("domus.actions.timeout.default", "120s",
                    "domus.actions.timeout.resize", SHORT.toSeconds() + "s",
                    "domus.actions.timeout.power_on", SHORT.toSeconds() + "s",
                    "domus.actions.republish-after", "2s",
                    "domus.actions.sweep-interval", "1s");
        }
    }

    private static JsonPath action(Api.Tenant t, String id) {
        return t.req().get("/v1/actions/" + id).then().statusCode(200).extract().jsonPath();
    }

    private static int used(Api.Tenant t, String resource) {
        return t.req().get("/v1/projects/" + t.projectId() + "/quotas").then().statusCode(200).extract()
                .path("items.find { it.resource == '" + resource + "' }.used");
    }

    private static long hostMemory(UUID host) {
        return QuarkusTransaction.requiringNew().call(() -> HostEntity.<HostEntity>findById(host).allocMemoryMb);
    }

    private static String start(Api.Tenant t, String vps, Map<String, Object> body) {
        return t.req().body(body).post("/v1/vps/" + vps + "/actions").then().statusCode(202).extract().path("id");
    }

    @Test
    void lostCommandIsRepublishedAndSilentHostsEndTheirActions() {
        Api.host();
        Api.Tenant t = Api.tenant("deadline");
        Response created = t.req().body(Api.vps("dl-1")).post("/v1/projects/" + t.projectId() + "/vps");
        created.then().statusCode(202);
        String vps = created.path("vps.id");
        String create = created.path("action.id");
        UUID host = QuarkusTransaction.requiringNew().call(() -> VpsEntity.<VpsEntity>findById(UUID.fromString(vps))
                .hostId);

        // The first create command is "lost": the agent never applies it. Its reconcile (GET desired) brings it again.
        HostCommand first = Kafka.commands(c -> c.actionId().toString().equals(create), Duration.ofSeconds(60))
                .getFirst();
        String agent = Api.clientToken("domus-host-agent");
        String desired = "/internal/hosts/" + host + "/desired";
        List<HostCommand> copies = List.of();
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (copies.size() < 2 && System.nanoTime() < until) {
            given().auth().oauth2(agent).accept(ContentType.JSON).get(desired).then().statusCode(200);
            copies = Kafka.commands(c -> c.actionId().toString().equals(create), 2, Duration.ofSeconds(3));
        }
        assertThat(copies).as("create command re-published on the agent's reconcile").hasSizeGreaterThanOrEqualTo(2);
        assertThat(copies).allSatisfy(c -> {
            assertThat(c.commandId()).isEqualTo(first.commandId());
            assertThat(c.type()).isEqualTo(HostCommandType.CREATE);
            assertThat(c).isEqualTo(first);
        });
        assertThat(action(t, create).getString("status")).isEqualTo("running");

        // The agent applies the re-published command: acknowledgement, then success, as for a first delivery.
        Kafka.send(HostEvent.action(HostEventType.ACTION_PROGRESS, host, UUID.fromString(vps),
                UUID.fromString(create), 10, Optional.empty(), Optional.empty()));
        Kafka.send(done(host, vps, create));
        await("create completed", () -> "success".equals(action(t, create).getString("status")));
        assertThat(status(t, vps)).isEqualTo("running");
        // Acknowledged and finished: later reconciles publish it no more.
        int published = Kafka.commands(c -> c.actionId().toString().equals(create), 100, Duration.ofSeconds(3)).size();
        given().auth().oauth2(agent).accept(ContentType.JSON).get(desired).then().statusCode(200);
        assertThat(Kafka.commands(c -> c.actionId().toString().equals(create), 100, Duration.ofSeconds(5)))
                .hasSize(published);

        Kafka.send(done(host, vps, start(t, vps, Map.of("type", "power_off"))));
        await("off", () -> "off".equals(status(t, vps)));

        // A resize the host never answers: host_unreachable at the deadline, growth given back once.
        int memory = used(t, "memory_mb");
        long hostMem = hostMemory(host);
        String resize = start(t, vps, Map.of("type", "resize", "plan", "s-2"));
        assertThat(used(t, "memory_mb")).isEqualTo(2048);
        assertThat(status(t, vps)).isEqualTo("resizing");
        await("resize expired", () -> "error".equals(action(t, resize).getString("status")));
        JsonPath r = action(t, resize);
        assertThat(r.getString("error.code")).isEqualTo("host_unreachable");
        assertThat(r.getString("error.message")).contains("never acknowledged").contains("resize");
        assertThat(Duration.between(OffsetDateTime.parse(r.getString("started_at")),
                OffsetDateTime.parse(r.getString("finished_at")))).isGreaterThanOrEqualTo(SHORT);
        assertThat(status(t, vps)).isEqualTo("off");
        assertThat(t.req().get("/v1/vps/" + vps).then().extract().<String>path("plan")).isEqualTo("s-1");
        assertThat(used(t, "memory_mb")).isEqualTo(memory);
        assertThat(hostMemory(host)).isEqualTo(hostMem);
        // The host wakes up and reports success late: the action is over, nothing is released or switched twice.
        Kafka.send(done(host, vps, resize));
        String probe = start(t, vps, Map.of("type", "power_on"));
        Kafka.send(done(host, vps, probe));
        await("on", () -> "running".equals(status(t, vps)));
        assertThat(action(t, resize).getString("status")).isEqualTo("error");
        assertThat(used(t, "memory_mb")).isEqualTo(memory);
        assertThat(hostMemory(host)).isEqualTo(hostMem);
        assertThat(t.req().get("/v1/vps/" + vps).then().extract().<String>path("plan")).isEqualTo("s-1");

        // Acknowledged but never finished: timeout, and the server goes back where it started.
        Kafka.send(done(host, vps, start(t, vps, Map.of("type", "power_off"))));
        await("off again", () -> "off".equals(status(t, vps)));
        String on = start(t, vps, Map.of("type", "power_on"));
        Kafka.send(HostEvent.action(HostEventType.ACTION_PROGRESS, host, UUID.fromString(vps), UUID.fromString(on),
                10, Optional.empty(), Optional.empty()));
        await("power_on expired", () -> "error".equals(action(t, on).getString("status")));
        assertThat(action(t, on).getString("error.code")).isEqualTo("timeout");
        assertThat(status(t, vps)).isEqualTo("off");
        // Not locked any more: the next action starts.
        start(t, vps, Map.of("type", "power_on"));
    }
}
