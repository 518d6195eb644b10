// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.HostEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Per-host IPv4 pools. Called after the scheduler reserved the host's capacity: that conditional UPDATE holds the
 * host row lock until commit, so parallel placements on one host pick addresses one after another and each sees
 * what the previous one committed (READ COMMITTED takes a new snapshot per statement).
 */
@ApplicationScoped
public class IpPool {
    private static final Logger LOG = Logger.getLogger(IpPool.class);

    /** A host's VPS network: gateway with prefix and the range of host numbers handed out. */
    public record Network(String gateway, int poolFirst, int poolLast) {
        public Network {
            int[] g = parse(gateway);
            int prefix = g[1];
            if (prefix < 8 || prefix > 30) {
                throw DomusException.invalid("vps_network.gateway", "prefix must be 8..30, got " + prefix);
            }
            long size = 1L << (32 - prefix);
            if (poolFirst < 1 || poolLast < poolFirst || poolLast > size - 2) {
                throw DomusException.invalid("vps_network.pool_last", "pool must be 1 <= first <= last <= "
                        + (size - 2) + " for a /" + prefix + ", got " + poolFirst + ".." + poolLast);
            }
        }

        int prefix() {
            return parse(gateway)[1];
        }

        /** The gateway address without prefix. */
        String gatewayAddress() {
            return gateway.substring(0, gateway.indexOf('/'));
        }

        int base() {
            int[] g = parse(gateway);
            return g[0] & (int) (0xffffffffL << (32 - g[1]));
        }
    }

    @Inject
    EntityManager em;

    /** The host's network, if it registered one. */
    public static Optional<Network> network(HostEntity h) {
        return h.vpsGateway == null || h.poolFirst == null || h.poolLast == null ? Optional.empty()
                : Optional.of(new Network(h.vpsGateway, h.poolFirst, h.poolLast));
    }

    /** The lowest free address (with prefix) of the host's pool; empty when the host has no pool. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<String> allocate(UUID hostId) {
        HostEntity h = HostEntity.findById(hostId);
        Optional<Network> net = h == null ? Optional.empty() : network(h);
        if (net.isEmpty()) {
            return Optional.empty();
        }
        Network n = net.get();
        @SuppressWarnings("unchecked")
        List<String> rows = em.createNativeQuery("SELECT ipv4 FROM vps WHERE host_id = ?1 AND status <> 'deleted' "
                + "AND ipv4 IS NOT NULL").setParameter(1, hostId).getResultList();
        Set<String> used = new HashSet<>(rows);
        String gw = n.gatewayAddress();
        int base = n.base();
        for (int i = n.poolFirst(); i <= n.poolLast(); i++) {
            String a = format(base + i);
            String withPrefix = a + "/" + n.prefix();
            if (!a.equals(gw) && !used.contains(withPrefix)) {
                return Optional.of(withPrefix);
            }
        }
        LOG.warnf("event=ip_pool.exhausted host=%s pool=%d..%d", hostId, n.poolFirst(), n.poolLast());
        throw new DomusException(DomusException.Kind.UNAVAILABLE, "no_address",
                "the IP pool of host " + hostId + " has no free address");
    }

    /** {address as int, prefix} of {@code a.b.c.d/p}, or a 400 naming the field. */
    static int[] parse(String cidr) {
        if (cidr == null || !cidr.matches("\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}")) {
            throw DomusException.invalid("vps_network.gateway", "must be a.b.c.d/prefix, got " + cidr);
        }
        String[] parts = cidr.split("/");
        String[] o = parts[0].split("\\.");
        int v = 0;
        for (String x : o) {
            int b = Integer.parseInt(x);
            if (b > 255) {
                throw DomusException.invalid("vps_network.gateway", "octet " + b + " > 255 in " + cidr);
            }
            v = (v << 8) | b;
        }
        return new int[] {v, Integer.parseInt(parts[1])};
    }

    static String format(int v) {
        return ((v >>> 24) & 0xff) + "." + ((v >>> 16) & 0xff) + "." + ((v >>> 8) & 0xff) + "." + (v & 0xff);
    }
}
