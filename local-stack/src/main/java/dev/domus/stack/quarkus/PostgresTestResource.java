// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack.quarkus;

import dev.domus.stack.PostgresService;
import dev.domus.stack.StackOptions;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/**
 * A real PostgreSQL for {@code @QuarkusTest}s. Init arg {@code database} (default {@code postgres}) names the
 * database the app gets; it is created if missing. Returns {@code quarkus.datasource.jdbc.url},
 * {@code quarkus.datasource.username} and {@code quarkus.datasource.password}.
 */
public final class PostgresTestResource implements QuarkusTestResourceLifecycleManager {

    private static PostgresService shared;

    private String database = "postgres";

    /** The JVM-wide server, started on first use and stopped by a shutdown hook. */
    public static synchronized PostgresService service() {
        if (shared == null) {
            shared = PostgresService.start(StackOptions.in(TestStateDirs.forService("postgres")));
        }
        return shared;
    }

    @Override
    public void init(Map<String, String> initArgs) {
        String db = initArgs.get("database");
        if (db != null && !db.isBlank()) {
            database = db;
        }
    }

    @Override
    public Map<String, String> start() {
        PostgresService pg = service();
        pg.createDatabase(database);
        return Map.of(
                "quarkus.datasource.jdbc.url", pg.jdbcUrl(database),
                "quarkus.datasource.username", pg.username(),
                "quarkus.datasource.password", pg.password());
    }

    @Override
    public void stop() {
        // Shared by every test class of this JVM: stopped by the service's shutdown hook, not per class.
    }
}
