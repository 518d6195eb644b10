// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;

/**
 * Deadlines of server actions (issue 8: no action stays {@code running} forever). See {@link ActionPolicy} for
 * how they are applied.
 */
@ConfigMapping(prefix = "domus.actions")
public interface ActionsConfig {
    /**
     * Deadline per action type, keyed by the wire name ({@code create}, {@code delete}, {@code power_on},
     * {@code power_off}, {@code shutdown}, {@code reboot}, {@code resize}, {@code rebuild}, {@code rescue},
     * {@code snapshot}) or {@code default} for the types not listed. Counted from the start of the action; past it
     * the sweeper fails the action. An unknown key stops the start-up.
     */
    Map<String, Duration> timeout();

    /**
     * A command the host has not acknowledged (no progress or outcome event yet) is re-published, with the same
     * command id, when the host's agent fetches its desired state and the last publication is older than this.
     */
    @WithDefault("20s")
    Duration republishAfter();

    /** How often the sweeper looks for actions past their deadline. */
    @WithDefault("5s")
    Duration sweepInterval();
}
