// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.api.events.HostEvent;
import dev.domus.api.events.UsageEvent;

/** Where the agent's reports go (Kafka in production; see {@code infra.KafkaBus}). Never blocks for long. */
public interface EventSink {
    void publish(HostEvent event);

    void publishUsage(UsageEvent event);
}
