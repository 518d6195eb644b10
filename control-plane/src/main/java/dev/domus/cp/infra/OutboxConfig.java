// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.infra;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The outbox relay. */
@ConfigMapping(prefix = "domus.outbox")
public interface OutboxConfig {
    /** Run the relay in this process (one or more replicas may; rows are claimed with SKIP LOCKED). */
    @WithDefault("true")
    boolean enabled();

    /** Pause between polls when the outbox is empty. */
    @WithDefault("200ms")
    Duration pollInterval();

    /** Rows published per transaction. */
    @WithDefault("100")
    int batchSize();

    /** How long to wait for the broker's acknowledgement of a batch. */
    @WithDefault("10s")
    Duration sendTimeout();

    /** Kafka bootstrap servers. */
    @WithDefault("localhost:9092")
    String bootstrapServers();
}
