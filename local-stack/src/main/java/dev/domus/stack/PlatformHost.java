// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.nio.file.Path;
import java.util.UUID;

/**
 * One host of a {@link Platform}.
 *
 * @param index      1..N
 * @param name       host name in the control plane ({@code h1}, ...)
 * @param id         the id the control plane gave the host; the agent runs with it
 * @param namespace  the host's network namespace ({@code domus-h1})
 * @param address    the host's address on the management bridge (the agent's local API listens there, port 8090)
 * @param vpsGateway address with prefix of the VPS bridge inside the namespace; VPS addresses come from its net
 * @param stateDir   the agent's state directory (VPS records, disks under {@code vps/<id>/})
 * @param runDir     the agent's run directory (domain runners' sockets, pid and lock files)
 */
public record PlatformHost(int index, String name, UUID id, String namespace, String address, String vpsGateway,
                           Path stateDir, Path runDir) {

    /** The agent's local HTTP API, e.g. {@code http://10.200.0.11:8090}. */
    public String agentUrl() {
        return "http://" + address + ":8090";
    }
}
