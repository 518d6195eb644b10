// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostUtilization;
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
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Heartbeats with utilization, sent to the real broker as a host agent would, end up on {@code GET /v1/hosts/{id}}
 * (response validated against openapi.yaml by the test client); an older heartbeat does not overwrite a newer one.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class HostUtilizationTest {

    @Test
    void latestHeartbeatUtilizationIsShownOnTheHost() throws Exception {
        UUID host = Api.host();
        UUID vps = UUID.randomUUID();
        Instant now = Instant.now();
        Kafka.send(heartbeat(host, now, 37.5, List.of(new HostUtilization.Vps(vps, 1, 256, 37.5, 300_000_000L))));
        JsonPath h = awaitUtilization(host, u -> u != null && ((Number) u.get("cpu_percent")).doubleValue() == 37.5);
        assertThat(h.getInt("utilization.running_vps")).isEqualTo(1);
        assertThat(h.getInt("utilization.cpu_count")).isEqualTo(2);
        assertThat(h.getLong("utilization.memory_mb")).isEqualTo(24_000L);
        assertThat(h.getInt("utilization.allocated_vcpus")).isEqualTo(1);
        assertThat(h.getLong("utilization.allocated_memory_mb")).isEqualTo(256L);
        assertThat(h.getLong("utilization.rss_bytes")).isEqualTo(300_000_000L);
        assertThat(h.getString("utilization.vps[0].vps_id")).isEqualTo(vps.toString());
        assertThat(h.getInt("utilization.vps[0].memory_mb")).isEqualTo(256);

        // An older measurement (redelivered late) is ignored; a newer one replaces the figures.
        Kafka.send(heartbeat(host, now.minusSeconds(60), 99.0, List.of()));
        Kafka.send(heartbeat(host, now.plusSeconds(10), 12.0, List.of()));
        JsonPath later = awaitUtilization(host, u -> u != null && ((Number) u.get("cpu_percent")).doubleValue() == 12.0);
        assertThat(later.getList("utilization.vps")).isEmpty();
    }

    private static HostEvent heartbeat(UUID host, Instant at, double cpu, List<HostUtilization.Vps> vps) {
        long rss = vps.stream().mapToLong(HostUtilization.Vps::rssBytes).sum();
        return new HostEvent(1, UUID.randomUUID(), dev.domus.api.events.HostEventType.HOST_HEARTBEAT, host, at,
                Optional.empty(), Optional.empty(), OptionalInt.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), OptionalInt.of(vps.size()),
                Optional.of(new HostUtilization(2, 24_000, vps.size(), 256L * vps.size(), cpu, rss, vps)));
    }

    @SuppressWarnings("unchecked")
    private static JsonPath awaitUtilization(UUID host, java.util.function.Predicate<Map<String, Object>> ok)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonPath last = null;
        while (System.nanoTime() < deadline) {
            last = Api.operator().req().get("/v1/hosts/" + host).then().statusCode(200).extract().jsonPath();
            Map<String, Object> u = last.getMap("utilization");
            if (ok.test(u)) {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("utilization never matched; last host view: " + (last == null ? "-" : last.prettify()));
    }
}
