// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class StackMainIT {

    @Test
    void startsAllThreeWritesStackEnvAndStopsOnRequest(@TempDir Path tmp) throws Exception {
        Path d = tmp.resolve("stack");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        StackMain main = new StackMain(out);
        CompletableFuture<Integer> rc = CompletableFuture.supplyAsync(
                () -> main.run(StackMain.parse(new String[] {"start", "--state-dir", d.toString()})));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!Files.exists(d.resolve("stack.env")) && !rc.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        String progress = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(progress);
        assertThat(rc).as(progress).isNotDone();
        assertThat(progress).containsPattern("postgres ready on 127\\.0\\.0\\.1:\\d+ \\(\\d+\\.\\d s\\)")
                .containsPattern("kafka ready on 127\\.0\\.0\\.1:\\d+ \\(\\d+\\.\\d s\\)")
                .containsPattern("keycloak ready on 127\\.0\\.0\\.1:\\d+ \\(\\d+\\.\\d s\\)");

        Map<String, String> env = readEnv(d.resolve("stack.env"));
        assertThat(env.get("DOMUS_OIDC_ISSUER")).matches("http://127\\.0\\.0\\.1:\\d+/realms/domus");
        assertThat(env.get("DOMUS_KAFKA_BOOTSTRAP_SERVERS")).matches("127\\.0\\.0\\.1:\\d+");
        assertThat(env).containsEntry("DOMUS_OIDC_CLIENT_DOMUS_HOST_AGENT_SECRET", "domus-host-agent-dev-secret");
        for (String f : new String[] {"stack.pid", "postgres.pid", "kafka.pid", "keycloak.pid"}) {
            long pid = Long.parseLong(Files.readString(d.resolve(f)).strip());
            assertThat(ProcessHandle.of(pid)).as(f).isPresent();
        }
        try (Connection c = DriverManager.getConnection(env.get("DOMUS_PG_JDBC_URL_CONTROL_PLANE"),
                env.get("DOMUS_PG_USER"), env.get("DOMUS_PG_PASSWORD"));
             Statement st = c.createStatement(); ResultSet r = st.executeQuery("select current_database()")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).isEqualTo("control_plane");
        }

        long kafkaPid = Long.parseLong(Files.readString(d.resolve("kafka.pid")).strip());
        main.requestStop();
        assertThat(rc.get(3, TimeUnit.MINUTES)).isZero();
        assertThat(d.resolve("stack.env")).doesNotExist();
        assertThat(ProcessHandle.of(kafkaPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        int pgPort = Integer.parseInt(env.get("DOMUS_PG_PORT"));
        assertThat(Ports.isFree(pgPort)).as("postgres port released").isTrue();
    }

    @Test
    void portInUseIsOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            PrintStream err = System.err;
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            int rc;
            try {
                rc = new StackMain(System.out).run(StackMain.parse(new String[] {"start", "--state-dir",
                        tmp.toString(), "--pg-port", Integer.toString(taken.getLocalPort())}));
            } finally {
                System.setErr(err);
            }
            assertThat(rc).isEqualTo(2);
            assertThat(bytes.toString(StandardCharsets.UTF_8).strip()).isEqualTo(
                    "domus-stack: postgres: port " + taken.getLocalPort() + " on 127.0.0.1 is already in use");
        }
    }

    private static Map<String, String> readEnv(Path f) throws Exception {
        Map<String, String> m = new HashMap<>();
        for (String line : Files.readAllLines(f)) {
            if (line.startsWith("#") || !line.contains("=")) {
                continue;
            }
            int eq = line.indexOf('=');
            String v = line.substring(eq + 1);
            if (v.startsWith("'") && v.endsWith("'")) {
                v = v.substring(1, v.length() - 1);
            }
            m.put(line.substring(0, eq), v);
        }
        return m;
    }
}
