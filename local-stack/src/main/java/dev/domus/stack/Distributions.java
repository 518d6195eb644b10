// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * Where the service binaries are on this machine. local-stack's build puts them under {@code ~/.cache/domus}
 * (resolved from Maven Central); nothing is downloaded at run time. Each location can be overridden with a
 * system property or an environment variable.
 */
final class Distributions {

    private static final Properties VERSIONS = load();

    private Distributions() {
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = Distributions.class.getResourceAsStream("versions.properties")) {
            if (in == null) {
                throw new IllegalStateException("versions.properties missing from the local-stack jar");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    static String kafkaVersion() {
        return VERSIONS.getProperty("kafka");
    }

    static String keycloakVersion() {
        return VERSIONS.getProperty("keycloak");
    }

    /** {@code -Ddomus.stack.cache}, {@code $DOMUS_STACK_CACHE}, else {@code ~/.cache/domus}. */
    static Path cacheRoot() {
        return setting("domus.stack.cache", "DOMUS_STACK_CACHE")
                .map(Path::of)
                .orElseGet(() -> Path.of(System.getProperty("user.home"), ".cache", "domus"));
    }

    /** The broker's jars: {@code -Ddomus.stack.kafka.libs}, {@code $DOMUS_KAFKA_LIBS}, else the cache. */
    static Path kafkaLibs() {
        return setting("domus.stack.kafka.libs", "DOMUS_KAFKA_LIBS")
                .map(Path::of)
                .orElseGet(() -> cacheRoot().resolve("kafka-" + kafkaVersion()).resolve("libs"));
    }

    /** The unpacked Keycloak: {@code -Ddomus.stack.keycloak.home}, {@code $DOMUS_KEYCLOAK_HOME}, else the cache. */
    static Path keycloakHome() {
        return setting("domus.stack.keycloak.home", "DOMUS_KEYCLOAK_HOME")
                .map(Path::of)
                .orElseGet(() -> cacheRoot().resolve("keycloak-" + keycloakVersion()));
    }

    static StackException notInstalled(String service, Path where) {
        return new StackException(service, StackException.Code.NOT_INSTALLED,
                "not installed at " + where + ": build local-stack once "
                        + "(./mvnw -B -pl local-stack install -DskipTests), which puts it there from Maven Central");
    }

    private static Optional<String> setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v);
    }
}
