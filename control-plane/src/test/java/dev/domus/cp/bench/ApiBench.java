// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.bench;

import dev.domus.stack.KafkaService;
import dev.domus.stack.PostgresService;
import dev.domus.stack.StackOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Open-loop load on loopback: starts PostgreSQL and Kafka (local-stack) and the packaged control plane, then sends
 * GET list and POST create at a fixed request rate and prints p50/p99/max latency (measured from the scheduled send
 * time, so a stall is not hidden) and the achieved throughput. Not a test: figures only.
 *
 * <p>Args: {@code [getRate=200] [postRate=50] [seconds=20]}.
 */
public final class ApiBench {
    private ApiBench() {
    }

    public static void main(String[] args) throws Exception {
        int getRate = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int postRate = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException("build the app first: ./mvnw -pl control-plane -am package -DskipTests");
        }
        Path state = Files.createTempDirectory("domus-bench");
        try (PostgresService pg = PostgresService.start(StackOptions.in(state.resolve("pg")));
             KafkaService kafka = KafkaService.start(StackOptions.in(state.resolve("kafka")))) {
            pg.createDatabase("bench");
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process app = new ProcessBuilder(java.toString(), "-Xmx512m",
                    "-Dquarkus.http.port=" + port,
                    "-Dquarkus.datasource.jdbc.url=" + pg.jdbcUrl("bench"),
                    "-Dquarkus.datasource.username=" + pg.username(),
                    "-Dquarkus.datasource.password=" + pg.password(),
                    "-Dkafka.bootstrap.servers=" + kafka.bootstrapServers(),
                    "-Ddomus.api.rate-limit.requests=100000000",
                    "-Dquarkus.log.level=WARN",
                    "-jar", jar.toString())
                    .redirectErrorStream(true).redirectOutput(state.resolve("app.log").toFile()).start();
            try {
                run(pg, port, getRate, postRate, seconds);
            } finally {
                app.destroy();
                if (!app.waitFor(20, TimeUnit.SECONDS)) {
                    app.destroyForcibly();
                }
            }
        }
    }

    private static void run(PostgresService pg, int port, int getRate, int postRate, int seconds) throws Exception {
        String base = "http://127.0.0.1:" + port;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    break;
                }
            } catch (IOException e) {
                // not up yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("control plane did not become ready");
            }
            Thread.sleep(200);
        }
        // An operator user with a token, inserted like a first OIDC login + POST /v1/tokens would leave it.
        String secret = "dpat_bench" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = pg.connect("bench")) {
            UUID user = UUID.randomUUID();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO users (id, subject, email, operator, created_at) "
                    + "VALUES (?, ?, ?, true, now())")) {
                ps.setObject(1, user);
                ps.setString(2, "bench|" + user);
                ps.setString(3, "bench-" + user + "@example.com");
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_tokens (id, user_id, name, scopes, prefix, "
                    + "secret_hash, created_at) VALUES (?, ?, 'bench', 'read,write,admin', ?, ?, now())")) {
                ps.setObject(1, UUID.randomUUID());
                ps.setObject(2, user);
                ps.setString(3, secret.substring(0, 12));
                ps.setString(4, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(secret.getBytes(StandardCharsets.UTF_8))));
                ps.executeUpdate();
            }
        }
        String org = id(call(http, base, secret, "POST", "/v1/organizations", "{\"name\":\"bench\"}", 201));
        String project = id(call(http, base, secret, "POST", "/v1/organizations/" + org + "/projects",
                "{\"name\":\"bench\"}", 201));
        call(http, base, secret, "POST", "/v1/hosts", "{\"name\":\"bench-host\",\"region\":\"local-1\",\"capacity\":"
                + "{\"vcpus\":4096,\"memory_mb\":67108864,\"disk_gb\":1048576}}", 201);
        for (String r : List.of("vps", "vcpus", "memory_mb", "disk_gb")) {
            call(http, base, secret, "PUT", "/v1/projects/" + project + "/quotas",
                    "{\"resource\":\"" + r + "\",\"limit\":100000000}", 200);
        }
        String vpsPath = "/v1/projects/" + project + "/vps";
        // 50 servers so the list has a realistic page, and a warm-up of both calls.
        for (int i = 0; i < 50; i++) {
            call(http, base, secret, "POST", vpsPath, body("seed-" + i), 202);
        }
        for (int i = 0; i < 200; i++) {
            call(http, base, secret, "GET", vpsPath, null, 200);
        }
        AtomicInteger n = new AtomicInteger();
        Result get = load(http, getRate, seconds, i -> request(base, secret, "GET", vpsPath + "?page_size=50", null));
        Result post = load(http, postRate, seconds, i -> request(base, secret, "POST", vpsPath,
                body("load-" + n.incrementAndGet())));
        System.out.println(get.format("GET  list (50 items)", 200));
        System.out.println(post.format("POST create", 202));
    }

    record Result(int rate, int seconds, long[] latNanos, int ok, int errors, double wallSeconds) {
        String format(String name, int okStatus) {
            long[] l = latNanos.clone();
            Arrays.sort(l);
            return String.format(Locale.ROOT, "%-22s rate=%d/s for %ds: sent=%d ok(%d)=%d errors=%d throughput=%.1f/s "
                            + "p50=%.2fms p99=%.2fms max=%.2fms", name, rate, seconds, l.length, okStatus, ok, errors,
                    ok / wallSeconds, pct(l, 0.50), pct(l, 0.99), l.length == 0 ? 0 : l[l.length - 1] / 1e6);
        }

        static double pct(long[] sorted, double p) {
            if (sorted.length == 0) {
                return 0;
            }
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
        }
    }

    /** Sends {@code rate * seconds} requests on a fixed schedule, never waiting for answers before the next send. */
    private static Result load(HttpClient http, int rate, int seconds, IntFunction<HttpRequest> make) throws Exception {
        int total = rate * seconds;
        long[] lat = new long[total];
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        List<CompletableFuture<?>> inflight = new ArrayList<>(total);
        long start = System.nanoTime();
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        for (int i = 0; i < total; i++) {
            long scheduled = start + i * interval;
            long wait = scheduled - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            int idx = i;
            inflight.add(http.sendAsync(make.apply(i), HttpResponse.BodyHandlers.discarding()).handle((r, t) -> {
                lat[idx] = System.nanoTime() - scheduled;
                if (t == null && r.statusCode() / 100 == 2) {
                    ok.incrementAndGet();
                } else {
                    errors.incrementAndGet();
                }
                return null;
            }));
        }
        CompletableFuture.allOf(inflight.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        double wall = (System.nanoTime() - start) / 1e9;
        return new Result(rate, seconds, lat, ok.get(), errors.get(), wall);
    }

    private static String body(String name) {
        return "{\"name\":\"" + name + "\",\"plan\":\"s-1\",\"image\":\"debian-12\",\"region\":\"local-1\","
                + "\"labels\":{\"env\":\"bench\"}}";
    }

    private static HttpRequest request(String base, String secret, String method, String path, String body) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + secret)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(60)).build();
    }

    private static String call(HttpClient http, String base, String secret, String method, String path, String body,
                               int expect) throws Exception {
        HttpResponse<String> r = http.send(request(base, secret, method, path, body), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != expect) {
            throw new IllegalStateException(method + " " + path + " -> " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    private static String id(String json) {
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no id in " + json);
        }
        return m.group(1);
    }
}
