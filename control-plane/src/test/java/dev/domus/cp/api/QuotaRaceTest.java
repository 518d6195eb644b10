// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.domus.cp.support.Api;
import dev.domus.cp.support.StackResources;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** 50 parallel creates against a quota of 10 servers give exactly 10 servers and 40 quota_exceeded. */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "control_plane"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = StackResources.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class QuotaRaceTest {

    @Test
    void fiftyParallelCreatesAgainstQuotaTen() throws Exception {
        Api.host();
        Api.Tenant t = Api.tenant("race");
        String quotas = "/v1/projects/" + t.projectId() + "/quotas";
        for (var q : List.of(Map.of("resource", "vps", "limit", 10), Map.of("resource", "vcpus", "limit", 1000),
                Map.of("resource", "memory_mb", "limit", 1000000), Map.of("resource", "disk_gb", "limit", 100000))) {
            Api.operator().req().body(q).put(quotas).then().statusCode(200);
        }
        int n = 50;
        CountDownLatch go = new CountDownLatch(1);
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        Map<String, Integer> codes = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            futures.add(pool.submit(() -> {
                go.await();
                Response r = t.req().body(Api.vps("race-" + idx)).post("/v1/projects/" + t.projectId() + "/vps");
                statuses.merge(r.statusCode(), 1, Integer::sum);
                if (r.statusCode() != 202) {
                    codes.merge(r.path("code"), 1, Integer::sum);
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : futures) {
            f.get(300, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(statuses).containsExactlyInAnyOrderEntriesOf(Map.of(202, 10, 409, 40));
        assertThat(codes).containsExactlyInAnyOrderEntriesOf(Map.of("quota_exceeded", 40));
        t.req().queryParam("page_size", 200).get("/v1/projects/" + t.projectId() + "/vps").then().statusCode(200)
                .body("items.size()", equalTo(10));
        t.req().get(quotas).then().body("items.find { it.resource == 'vps' }.used", equalTo(10))
                .body("items.find { it.resource == 'vcpus' }.used", equalTo(10));
    }
}
