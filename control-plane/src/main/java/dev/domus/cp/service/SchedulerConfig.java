// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Placement of new servers. */
@ConfigMapping(prefix = "domus.scheduler")
public interface SchedulerConfig {
    /** {@code spread}: the emptiest host first (fault isolation); {@code pack}: the fullest that fits (fewer hosts on). */
    @WithDefault("spread")
    Placement.Strategy strategy();

    /** Weight of free memory in the score (0..1); the rest is free vCPUs. */
    @WithDefault("0.7")
    double memoryWeight();
}
