// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to start one service.
 *
 * @param stateDir     data and logs of the service; data found there is reused (a persistent stack), a new
 *                     directory gives a fresh service
 * @param port         port on 127.0.0.1, {@code 0} = pick a free one
 * @param startTimeout how long to wait for the readiness check before failing with the log tail
 * @param host         IPv4 address to listen on and advertise, {@code 127.0.0.1} unless a platform with network
 *                     namespaces needs the services on a management address that its hosts can reach
 */
public record StackOptions(Path stateDir, int port, Duration startTimeout, String host) {

    /** Used by the factories; Keycloak's first start on a loaded 2-core machine can take a minute. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(180);

    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile(
            "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");

    /** On 127.0.0.1 (what tests and {@code deploy/stack} use). */
    public StackOptions(Path stateDir, int port, Duration startTimeout) {
        this(stateDir, port, startTimeout, Ports.HOST);
    }

    public StackOptions {
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(host, "host");
        if (!IPV4.matcher(host).matches()) {
            throw new IllegalArgumentException("host must be an IPv4 address such as 127.0.0.1, got " + host);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535 (0 = free port), got " + port);
        }
        if (startTimeout.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
        }
        stateDir = stateDir.toAbsolutePath().normalize();
    }

    /** A state directory (reused if it has data), a free port and the default timeout. */
    public static StackOptions in(Path stateDir) {
        return new StackOptions(stateDir, 0, DEFAULT_START_TIMEOUT);
    }

    /** A new empty temporary state directory, a free port and the default timeout. */
    public static StackOptions temporary(String prefix) {
        try {
            return in(Files.createTempDirectory("domus-" + prefix + "-"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary state directory", e);
        }
    }

    public StackOptions withPort(int newPort) {
        return new StackOptions(stateDir, newPort, startTimeout, host);
    }

    public StackOptions withStartTimeout(Duration timeout) {
        return new StackOptions(stateDir, port, timeout, host);
    }

    public StackOptions withStateDir(Path dir) {
        return new StackOptions(dir, port, startTimeout, host);
    }

    public StackOptions withHost(String address) {
        return new StackOptions(stateDir, port, startTimeout, address);
    }
}
