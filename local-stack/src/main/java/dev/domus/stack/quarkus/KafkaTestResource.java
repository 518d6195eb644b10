// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack.quarkus;

import dev.domus.stack.KafkaService;
import dev.domus.stack.StackOptions;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/**
 * A real Kafka broker for {@code @QuarkusTest}s. Returns {@code kafka.bootstrap.servers} and
 * {@code mp.messaging.connector.smallrye-kafka.bootstrap.servers}. Init arg {@code topics}
 * ({@code "name:partitions,name2:partitions"}) creates topics up front. A test that needs the broker to go away
 * and come back calls {@code KafkaTestResource.service().restart()}.
 */
public final class KafkaTestResource implements QuarkusTestResourceLifecycleManager {

    private static KafkaService shared;

    private String topics = "";

    /** The JVM-wide broker, started on first use and stopped by a shutdown hook. */
    public static synchronized KafkaService service() {
        if (shared == null) {
            shared = KafkaService.start(StackOptions.in(TestStateDirs.forService("kafka")));
        }
        return shared;
    }

    @Override
    public void init(Map<String, String> initArgs) {
        topics = initArgs.getOrDefault("topics", "");
    }

    @Override
    public Map<String, String> start() {
        KafkaService kafka = service();
        for (String spec : topics.split(",")) {
            String s = spec.strip();
            if (s.isEmpty()) {
                continue;
            }
            int colon = s.lastIndexOf(':');
            String name = colon < 0 ? s : s.substring(0, colon);
            int partitions;
            try {
                partitions = colon < 0 ? 1 : Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("topics init arg: want name:partitions, got " + s, e);
            }
            kafka.createTopic(name, partitions);
        }
        return Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "mp.messaging.connector.smallrye-kafka.bootstrap.servers", kafka.bootstrapServers());
    }

    @Override
    public void stop() {
        // Shared by every test class of this JVM: stopped by the service's shutdown hook, not per class.
    }
}
