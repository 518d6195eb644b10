// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import dev.domus.api.events.UsageEvent;
import dev.domus.api.events.VpsLifecycleEvent;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * Stores a batch of usage and lifecycle events in one transaction (usage rows by binary COPY, straight into the
 * table or, when the batch replays stored events, through a temporary table and {@code INSERT ... ON CONFLICT}; or
 * by {@code unnest} of arrays: {@code domus.billing.consumer.store-method}). The event id is the primary key and rows are
 * inserted with {@code ON CONFLICT DO NOTHING}: a replayed or re-delivered event has no second effect. The caller
 * commits its Kafka offsets only after this returns.
 */
@ApplicationScoped
public class IngestService {
    private static final String INSERT_USAGE = """
            INSERT INTO usage_event (event_id, organization_id, project_id, resource_id, metric, quantity, plan,
                                     vps_state, period_start, period_end)
            SELECT * FROM unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::bigint[], ?::text[],
                                 ?::text[], ?::timestamptz[], ?::timestamptz[])
            ON CONFLICT (event_id) DO NOTHING""";
    private static final String INSERT_LIFECYCLE = """
            INSERT INTO vps_lifecycle (event_id, organization_id, project_id, vps_id, kind, plan, occurred_at)
            SELECT * FROM unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::timestamptz[])
            ON CONFLICT (event_id) DO NOTHING""";

    /**
     * The replay path of {@code copy}: binary COPY of the batch into a per-connection temporary table (no WAL, no
     * indexes, no text parsing), then one set-based insert with the unique-key rule.
     */
    private static final String CREATE_USAGE_STAGE = """
            CREATE TEMP TABLE IF NOT EXISTS usage_stage (event_id uuid, organization_id uuid, project_id uuid,
                resource_id uuid, metric text, quantity bigint, plan text, vps_state text, period_start timestamptz,
                period_end timestamptz) ON COMMIT DELETE ROWS""";
    private static final String COPY_USAGE_STAGE = "COPY usage_stage FROM STDIN (FORMAT binary)";
    private static final String COPY_USAGE_DIRECT = """
            COPY usage_event (event_id, organization_id, project_id, resource_id, metric, quantity, plan, vps_state,
                              period_start, period_end) FROM STDIN (FORMAT binary)""";
    private static final String UNIQUE_VIOLATION = "23505";
    private static final String INSERT_USAGE_FROM_STAGE = """
            INSERT INTO usage_event (event_id, organization_id, project_id, resource_id, metric, quantity, plan,
                                     vps_state, period_start, period_end)
            SELECT event_id, organization_id, project_id, resource_id, metric, quantity, plan, vps_state,
                   period_start, period_end FROM usage_stage
            ON CONFLICT (event_id) DO NOTHING""";
    /** Bytes per usage row in binary COPY form (10 fields, short texts), to size the buffer once. */
    private static final int COPY_ROW_BYTES = 4 * 20 + 12 * 3 + 3 * 24 + 2;

    /** How a batch of usage rows reaches PostgreSQL (same effect, same transaction; COPY is faster). */
    public enum StoreMethod { COPY, UNNEST }

    /** What a batch changed: rows inserted, and duplicates that had no effect. */
    public record Stored(int usageInserted, int usageDuplicates, int lifecycleInserted, int lifecycleDuplicates) {
    }

    @Inject
    AgroalDataSource ds;

    @Inject
    BillingConfig config;

    public Stored store(List<UsageEvent> usage, List<VpsLifecycleEvent> lifecycle) {
        return store(usage, lifecycle, config.consumer().storeMethod());
    }

    /** As {@link #store(List, List)} with an explicit way of writing the usage rows (tests, benchmarks). */
    public Stored store(List<UsageEvent> usage, List<VpsLifecycleEvent> lifecycle, StoreMethod method) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                int u = usage.isEmpty() ? 0
                        : method == StoreMethod.COPY ? copyUsage(c, usage)
                        : insertUsage(c, usage);
                int l = lifecycle.isEmpty() ? 0 : insertLifecycle(c, lifecycle);
                c.commit();
                return new Stored(u, usage.size() - u, l, lifecycle.size() - l);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("storing a batch failed: " + e.getMessage(), e);
        }
    }

    /**
     * Optimistic first: most batches hold no event the table already has, so after dropping in-batch repeats the
     * rows are COPYed straight into {@code usage_event} (no staging, no speculative insertion). If the primary key
     * refuses one (a replay), the savepoint undoes that COPY and the same bytes go through the staging table and
     * {@code ON CONFLICT DO NOTHING}. Either way the unique key decides: exactly-once effect as before.
     */
    private static int copyUsage(Connection c, List<UsageEvent> batch) throws SQLException {
        int n = batch.size();
        Set<UUID> seen = HashSet.newHashSet(n);
        CopyEncoder enc = new CopyEncoder(n * COPY_ROW_BYTES + 64);
        int rows = 0;
        for (int i = 0; i < n; i++) {
            UsageEvent e = batch.get(i);
            if (!seen.add(e.eventId())) {
                continue;
            }
            rows++;
            enc.row(10);
            enc.uuid(e.eventId());
            enc.uuid(e.organizationId());
            enc.uuid(e.projectId());
            enc.uuid(e.resourceId());
            enc.text(e.metric().wire());
            enc.bigint(e.quantity());
            enc.text(e.plan().orElse(null));
            enc.text(e.vpsState().orElse(null));
            enc.timestamptz(e.periodStart());
            enc.timestamptz(e.periodEnd());
        }
        enc.finish();
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        Savepoint sp = c.setSavepoint();
        try {
            copy(copy, COPY_USAGE_DIRECT, enc);
            c.releaseSavepoint(sp);
            return rows;
        } catch (SQLException e) {
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw e;
            }
            c.rollback(sp);
        }
        try (Statement st = c.createStatement()) {
            st.execute(CREATE_USAGE_STAGE);
        }
        copy(copy, COPY_USAGE_STAGE, enc);
        try (Statement st = c.createStatement()) {
            return st.executeUpdate(INSERT_USAGE_FROM_STAGE);
        }
    }

    private static void copy(CopyManager copy, String sql, CopyEncoder enc) throws SQLException {
        CopyIn in = copy.copyIn(sql);
        try {
            in.writeToCopy(enc.bytes(), 0, enc.length());
            in.endCopy();
        } finally {
            if (in.isActive()) {
                in.cancelCopy();
            }
        }
    }

    private static int insertUsage(Connection c, List<UsageEvent> batch) throws SQLException {
        int n = batch.size();
        UUID[] id = new UUID[n];
        UUID[] org = new UUID[n];
        UUID[] project = new UUID[n];
        UUID[] resource = new UUID[n];
        String[] metric = new String[n];
        Long[] quantity = new Long[n];
        String[] plan = new String[n];
        String[] state = new String[n];
        String[] start = new String[n];
        String[] end = new String[n];
        for (int i = 0; i < n; i++) {
            UsageEvent e = batch.get(i);
            id[i] = e.eventId();
            org[i] = e.organizationId();
            project[i] = e.projectId();
            resource[i] = e.resourceId();
            metric[i] = e.metric().wire();
            quantity[i] = e.quantity();
            plan[i] = e.plan().orElse(null);
            state[i] = e.vpsState().orElse(null);
            start[i] = e.periodStart().toString();
            end[i] = e.periodEnd().toString();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_USAGE)) {
            Array[] arrays = {c.createArrayOf("uuid", id), c.createArrayOf("uuid", org),
                    c.createArrayOf("uuid", project), c.createArrayOf("uuid", resource),
                    c.createArrayOf("text", metric), c.createArrayOf("bigint", quantity),
                    c.createArrayOf("text", plan), c.createArrayOf("text", state), c.createArrayOf("text", start),
                    c.createArrayOf("text", end)};
            for (int i = 0; i < arrays.length; i++) {
                ps.setArray(i + 1, arrays[i]);
            }
            return ps.executeUpdate();
        }
    }

    private static int insertLifecycle(Connection c, List<VpsLifecycleEvent> batch) throws SQLException {
        int n = batch.size();
        UUID[] id = new UUID[n];
        UUID[] org = new UUID[n];
        UUID[] project = new UUID[n];
        UUID[] vps = new UUID[n];
        String[] kind = new String[n];
        String[] plan = new String[n];
        String[] at = new String[n];
        for (int i = 0; i < n; i++) {
            VpsLifecycleEvent e = batch.get(i);
            id[i] = e.eventId();
            org[i] = e.organizationId();
            project[i] = e.projectId();
            vps[i] = e.vpsId();
            kind[i] = e.type().name().toLowerCase(Locale.ROOT);
            plan[i] = e.plan();
            at[i] = e.occurredAt().toString();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_LIFECYCLE)) {
            Array[] arrays = {c.createArrayOf("uuid", id), c.createArrayOf("uuid", org),
                    c.createArrayOf("uuid", project), c.createArrayOf("uuid", vps), c.createArrayOf("text", kind),
                    c.createArrayOf("text", plan), c.createArrayOf("text", at)};
            for (int i = 0; i < arrays.length; i++) {
                ps.setArray(i + 1, arrays[i]);
            }
            return ps.executeUpdate();
        }
    }
}
