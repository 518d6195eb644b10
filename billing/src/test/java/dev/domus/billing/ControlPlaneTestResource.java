// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing;

import dev.domus.stack.KeycloakService;
import dev.domus.stack.PostgresService;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real control plane for billing's authorization tests: its built application
 * ({@code control-plane/target/quarkus-app/quarkus-run.jar}, so build with {@code -pl control-plane,billing -am})
 * as a child process on the same PostgreSQL (database {@code control_plane}), Kafka and Keycloak as the billing app
 * under test. Returns {@code domus.billing.control-plane.url} and {@code domus.test.control-plane.url}.
 */
public final class ControlPlaneTestResource implements QuarkusTestResourceLifecycleManager {
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(4);
    private Process process;

    @Override
    public Map<String, String> start() {
        Path root = Path.of(System.getProperty("domus.repo.root", "..")).toAbsolutePath().normalize();
        Path jar = root.resolve("control-plane/target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build the control plane in the same reactor, e.g. "
                    + "./mvnw -pl control-plane,billing -am verify -Dtest=BillingAuthTest "
                    + "-Dsurefire.failIfNoSpecifiedTests=false");
        }
        PostgresService pg = PostgresTestResource.service();
        pg.createDatabase("control_plane");
        KeycloakService kc = KeycloakTestResource.service();
        String kafka = KafkaTestResource.service().bootstrapServers();
        int port = freePort();
        Path log = root.resolve("billing/target/control-plane-test.log");
        ProcessBuilder pb = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString(), "-Xmx384m", "-XX:TieredStopAtLevel=1",
                "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.datasource.username=" + pg.username(), "-Dquarkus.datasource.password=" + pg.password(),
                "-jar", jar.toString()));
        pb.environment().put("DOMUS_DB_URL", pg.jdbcUrl("control_plane"));
        pb.environment().put("DOMUS_KAFKA", kafka);
        pb.environment().put("DOMUS_OIDC_URL", kc.issuer(kc.realm().name()));
        pb.directory(root.resolve("billing/target").toFile());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop));
        String url = "http://127.0.0.1:" + port;
        awaitReady(url, log);
        return Map.of("domus.billing.control-plane.url", url, "domus.test.control-plane.url", url);
    }

    private void awaitReady(String url, Path log) {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the control plane exited with " + process.exitValue() + "; see "
                        + log);
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        stop();
        throw new IllegalStateException("the control plane was not ready within " + READY_TIMEOUT + "; see " + log);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        p.destroy();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }
}
