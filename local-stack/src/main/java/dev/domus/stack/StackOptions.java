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
 */
public record StackOptions(Path stateDir, int port, Duration startTimeout) {

    /** Used by the factories; Keycloak's first start on a loaded 2-core machine can take a minute. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(180);

    public StackOptions {
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(startTimeout, "startTimeout");
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
        return new StackOptions(stateDir, newPort, startTimeout);
    }

    public StackOptions withStartTimeout(Duration timeout) {
        return new StackOptions(stateDir, port, timeout);
    }

    public StackOptions withStateDir(Path dir) {
        return new StackOptions(dir, port, startTimeout);
    }
}
