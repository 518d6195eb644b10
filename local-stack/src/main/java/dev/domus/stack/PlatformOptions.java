// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to start the whole platform ({@link Platform}).
 *
 * @param stateDir        data and logs of every service and host; reused when it has data (a persistent platform)
 * @param hosts           number of host agents, 1..8, each in its own network namespace
 * @param prefix          start of every namespace, bridge and veth name ({@code domus} gives {@code domus-h1},
 *                        {@code domus-mgmt}); 1..8 characters {@code [a-z0-9]}
 * @param subnet          a free 10.x /16 given as its first two octets ({@code 10.200}): the management bridge is
 *                        {@code .0.1/24}, host {@code i} is {@code .0.(10+i)} with its VPS network {@code .i.0/24}
 * @param controlPlaneJar the packaged control plane ({@code control-plane/target/quarkus-app/quarkus-run.jar})
 * @param agentJar        the packaged host agent ({@code host-agent/target/quarkus-app/quarkus-run.jar})
 * @param guestDir        the guest image directory ({@code deploy/guest/build --print-dir}), served as image
 *                        {@code debian-12}
 * @param runRoot         parent of the agents' run directories (control sockets must fit 107 bytes: keep it short)
 * @param apiPort         control-plane port on the management address, 0 = a free one
 * @param startTimeout    per service
 */
public record PlatformOptions(Path stateDir, int hosts, String prefix, String subnet, Path controlPlaneJar,
                              Path agentJar, Path guestDir, Path runRoot, int apiPort, Duration startTimeout) {

    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]{1,8}");
    private static final Pattern SUBNET = Pattern.compile("10\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");

    public PlatformOptions {
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(controlPlaneJar, "controlPlaneJar");
        Objects.requireNonNull(agentJar, "agentJar");
        Objects.requireNonNull(guestDir, "guestDir");
        Objects.requireNonNull(runRoot, "runRoot");
        Objects.requireNonNull(startTimeout, "startTimeout");
        if (hosts < 1 || hosts > 8) {
            throw new IllegalArgumentException("hosts must be 1..8, got " + hosts);
        }
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("prefix must be 1..8 characters [a-z0-9], got " + prefix);
        }
        if (subnet == null || !SUBNET.matcher(subnet).matches()) {
            throw new IllegalArgumentException("subnet must be the first two octets of a 10.x.0.0/16, e.g. 10.200, got "
                    + subnet);
        }
        if (apiPort < 0 || apiPort > 65535) {
            throw new IllegalArgumentException("apiPort must be 0..65535 (0 = free port), got " + apiPort);
        }
        stateDir = stateDir.toAbsolutePath().normalize();
        runRoot = runRoot.toAbsolutePath().normalize();
    }

    /** The services' address on the management bridge, e.g. {@code 10.200.0.1}. */
    public String managementAddress() {
        return subnet + ".0.1";
    }

    /** Host {@code i}'s address on the management bridge. */
    String hostAddress(int i) {
        return subnet + ".0." + (10 + i);
    }

    /** Host {@code i}'s VPS network, e.g. {@code 10.200.1.0/24}. */
    String vpsNet(int i) {
        return subnet + "." + i + ".0/24";
    }

    /** Gateway (with prefix) of host {@code i}'s VPS bridge. */
    String vpsGateway(int i) {
        return subnet + "." + i + ".1/24";
    }
}
