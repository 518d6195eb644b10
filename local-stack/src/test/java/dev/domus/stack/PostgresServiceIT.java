// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import dev.domus.stack.quarkus.PostgresTestResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PostgresServiceIT {

    @TempDir
    Path tmp;

    @Test
    void createsDatabaseAndRoundTripsRowsAcrossARestart() throws Exception {
        Path state = tmp.resolve("pg");
        int port;
        try (PostgresService pg = PostgresService.start(StackOptions.in(state))) {
            port = pg.port();
            System.out.println("postgres ready in " + pg.startedIn().toMillis() + " ms (fresh cluster, initdb)");
            assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + port + "/postgres");
            pg.createDatabase("app_one");
            pg.createDatabase("app_one"); // idempotent
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("app_one"), pg.username(), pg.password());
                 Statement st = c.createStatement()) {
                st.execute("create table vps (id bigint primary key, name text not null)");
                st.execute("insert into vps values (1, 'web-1'), (2, 'db-1')");
                try (ResultSet rs = st.executeQuery("select name from vps order by id")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("web-1");
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("db-1");
                    assertThat(rs.next()).isFalse();
                }
                try (ResultSet rs = st.executeQuery("show listen_addresses")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("127.0.0.1");
                }
            }
        }
        // Same state dir again: the cluster and its rows are still there (a persistent local stack).
        try (PostgresService pg = PostgresService.start(StackOptions.in(state).withPort(port))) {
            System.out.println("postgres ready in " + pg.startedIn().toMillis() + " ms (existing cluster)");
            try (Connection c = pg.connect("app_one"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select count(*) from vps")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
        }
    }

    @Test
    void portTakenIsAClearOneLineError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> PostgresService.start(StackOptions.in(tmp.resolve("clash")).withPort(port)))
                    .isInstanceOfSatisfying(StackException.class, e -> {
                        assertThat(e.code()).isEqualTo(StackException.Code.PORT_IN_USE);
                        assertThat(e.oneLine())
                                .isEqualTo("postgres: port " + port + " on 127.0.0.1 is already in use");
                    });
        }
    }

    @Test
    void rejectsBadDatabaseNames() {
        assertThatThrownBy(() -> PostgresTestResource.service().createDatabase("x; drop table y"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("database name must match");
    }

    @Test
    void testResourceHandsOutItsOwnDatabase() throws Exception {
        PostgresTestResource r = new PostgresTestResource();
        r.init(Map.of("database", "billing"));
        Map<String, String> config = r.start();
        assertThat(config.get("quarkus.datasource.jdbc.url")).endsWith("/billing");
        try (Connection c = DriverManager.getConnection(config.get("quarkus.datasource.jdbc.url"),
                config.get("quarkus.datasource.username"), config.get("quarkus.datasource.password"));
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select current_database()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("billing");
        }
        // A second resource in the same JVM shares the server.
        PostgresTestResource again = new PostgresTestResource();
        again.init(Map.of());
        assertThat(again.start().get("quarkus.datasource.jdbc.url"))
                .isEqualTo(PostgresTestResource.service().jdbcUrl("postgres"));
    }
}
