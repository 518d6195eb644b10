// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.AgentException;
import dev.domus.agent.infra.Tools;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The host side of VPS networking: one bridge per host carrying the gateway address, one tap per VPS (opened by
 * the domain runner, so it disappears with the runner), and the local address pool used when the control plane
 * does not assign an address.
 */
@ApplicationScoped
public class HostNetwork {
    private static final Logger LOG = Logger.getLogger(HostNetwork.class);
    private static final Duration IP_TIMEOUT = Duration.ofSeconds(20);

    private final AgentConfig config;

    @Inject
    public HostNetwork(AgentConfig config) {
        this.config = config;
    }

    public String bridge() {
        return config.bridge();
    }

    /** Gateway address without prefix. */
    public String gateway() {
        return config.gateway().substring(0, config.gateway().indexOf('/'));
    }

    public int prefix() {
        return Integer.parseInt(config.gateway().substring(config.gateway().indexOf('/') + 1));
    }

    /** Creates the bridge with the gateway address when it is missing and the agent manages it. */
    public void ensureBridge() {
        if (linkExists(config.bridge())) {
            return;
        }
        if (!config.manageBridge()) {
            throw new AgentException(AgentException.NETWORK, "bridge " + config.bridge()
                    + " does not exist and domus.agent.manage-bridge is false");
        }
        Tools.run(AgentException.NETWORK, IP_TIMEOUT, List.of("ip", "link", "add", config.bridge(), "type", "bridge",
                // No STP on a host-local bridge: a new tap forwards at once instead of after a listening delay.
                "forward_delay", "0", "stp_state", "0"));
        Tools.run(AgentException.NETWORK, IP_TIMEOUT, List.of("ip", "addr", "add", config.gateway(), "dev", config.bridge()));
        Tools.run(AgentException.NETWORK, IP_TIMEOUT, List.of("ip", "link", "set", config.bridge(), "up"));
        LOG.infof("event=bridge_created bridge=%s gateway=%s", config.bridge(), config.gateway());
    }

    /** A free pool address (with prefix) not in {@code used} (addresses without prefix). */
    public String allocate(Collection<String> used) {
        String gw = gateway();
        String net = gw.substring(0, gw.lastIndexOf('.') + 1);
        for (int i = config.poolFirst(); i <= config.poolLast(); i++) {
            String a = net + i;
            if (!a.equals(gw) && !used.contains(a)) {
                return a + "/" + prefix();
            }
        }
        throw new AgentException(AgentException.POOL, "no free address in " + net + config.poolFirst() + ".."
                + config.poolLast());
    }

    public static boolean linkExists(String name) {
        return Files.exists(Path.of("/sys/class/net", name));
    }

    /** Removes a tap left behind (normally the kernel removes it when the runner's descriptor closes). */
    public void removeTap(String tap) {
        if (linkExists(tap)) {
            Tools.runQuietly(IP_TIMEOUT, List.of("ip", "link", "del", tap));
        }
    }

    /** Bytes the guest sent ({@code rx} on the tap) and received ({@code tx} on the tap); 0 when the tap is gone. */
    public static long[] tapCounters(String tap) {
        return new long[] {readCounter(tap, "rx_bytes"), readCounter(tap, "tx_bytes")};
    }

    private static long readCounter(String tap, String name) {
        try {
            return Long.parseLong(Files.readString(Path.of("/sys/class/net", tap, "statistics", name)).strip());
        } catch (java.io.IOException | NumberFormatException e) {
            return 0;
        }
    }
}
