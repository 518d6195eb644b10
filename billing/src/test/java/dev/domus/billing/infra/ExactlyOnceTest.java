// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.billing.TestStreams;
import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.rating.RatedInvoice;
import dev.domus.billing.rating.RatingEngine;
import dev.domus.billing.service.BillingException;
import dev.domus.billing.service.BillingService;
import dev.domus.billing.service.Invoice;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.YearMonth;
import java.util.Currency;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real Kafka and PostgreSQL: the same usage stream replayed, a consumer killed between its database commit and its
 * offset commit, and a broker restart all give the invoice the engine computes straight from the events.
 */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "billing"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = TestStreams.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExactlyOnceTest {
    static final BillingPeriod NOV = new BillingPeriod(YearMonth.of(2026, 11));
    static final Duration WAIT = Duration.ofSeconds(120);

    @Inject
    UsageConsumer consumer;

    @Inject
    BillingService billing;

    @Inject
    AgroalDataSource ds;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    KafkaProducer<byte[], byte[]> producer;

    @BeforeAll
    void producer() {
        producer = TestStreams.producer(bootstrap);
    }

    /** Every test starts with a running consumer, whatever the previous one did to it. */
    @BeforeEach
    void consumerRunning() {
        consumer.start();
    }

    @AfterAll
    void close() {
        producer.close();
        consumer.start();
    }

    long stored(UUID org) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT (SELECT count(*) FROM usage_event WHERE organization_id = ?)
                     + (SELECT count(*) FROM vps_lifecycle WHERE organization_id = ?)""")) {
            ps.setObject(1, org);
            ps.setObject(2, org);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    void awaitStored(UUID org, long n) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (stored(org) < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("stored " + stored(org) + " of " + n + " events for " + org);
            }
            Thread.sleep(100);
        }
        assertThat(stored(org)).isEqualTo(n);
    }

    RatedInvoice expected(TestStreams.Stream s) {
        return new RatingEngine(billing.priceBook()).rate(s.expectedInput(Currency.getInstance("EUR"), NOV,
                NOV.end()));
    }

    @Test
    void replayingTheStreamTwiceGivesTheSameInvoice() throws Exception {
        TestStreams.Stream s = TestStreams.november(UUID.randomUUID());
        TestStreams.send(producer, s);
        awaitStored(s.org(), s.size());
        TestStreams.awaitCaughtUp(bootstrap, "domus-billing", WAIT);
        Invoice first = billing.invoice(s.org(), NOV);
        assertThat(first.status()).isEqualTo(Invoice.Status.DRAFT);
        assertThat(first.rated().sameAs(expected(s))).as("%s%nvs%n%s", first.rated(), expected(s)).isTrue();
        assertThat(first.rated().totalMinor()).isPositive();

        long duplicatesBefore = consumer.stats().duplicates();
        TestStreams.send(producer, s);
        TestStreams.awaitCaughtUp(bootstrap, "domus-billing", WAIT);
        assertThat(consumer.stats().duplicates() - duplicatesBefore).isGreaterThanOrEqualTo(s.size());
        assertThat(stored(s.org())).isEqualTo(s.size());
        Invoice second = billing.invoice(s.org(), NOV);
        assertThat(second.rated()).isEqualTo(first.rated());

        // Re-running an open period gives the same result; after close, re-rating is refused and replay is inert.
        assertThat(billing.rerun(s.org(), NOV).rated()).isEqualTo(first.rated());
        Invoice closed = billing.close(s.org(), NOV);
        assertThat(closed.status()).isEqualTo(Invoice.Status.FINALIZED);
        assertThat(closed.rated().sameAs(first.rated())).isTrue();
        assertThatThrownBy(() -> billing.rerun(s.org(), NOV)).isInstanceOf(BillingException.class)
                .hasMessageContaining("cannot be re-rated");
        assertThatThrownBy(() -> billing.close(s.org(), NOV)).isInstanceOf(BillingException.class)
                .hasMessageContaining("already finalized");
        TestStreams.send(producer, s);
        TestStreams.awaitCaughtUp(bootstrap, "domus-billing", WAIT);
        assertThat(billing.invoice(s.org(), NOV).rated().sameAs(closed.rated())).isTrue();
    }

    @Test
    void finalizedLinesAreImmutableInTheDatabase() throws Exception {
        TestStreams.Stream s = TestStreams.november(UUID.randomUUID());
        TestStreams.send(producer, s);
        awaitStored(s.org(), s.size());
        Invoice closed = billing.close(s.org(), NOV);
        try (Connection c = ds.getConnection()) {
            for (String sql : new String[] {
                    "UPDATE invoice_line SET amount_minor = 0 WHERE invoice_id = '" + closed.id() + "'",
                    "DELETE FROM invoice_line WHERE invoice_id = '" + closed.id() + "'",
                    "UPDATE invoice SET total_minor = 0 WHERE id = '" + closed.id() + "'",
                    "INSERT INTO invoice_line (invoice_id, line_no, kind, description, quantity, unit, unit_price,"
                            + " amount_minor) VALUES ('" + closed.id() + "', 999, 'adjustment', 'x', 1, 'each', 0, 0)"}) {
                assertThatThrownBy(() -> c.createStatement().executeUpdate(sql)).as(sql)
                        .isInstanceOf(SQLException.class).hasMessageContaining("finalized invoices are immutable");
            }
        }
        assertThat(billing.invoice(s.org(), NOV).rated().sameAs(closed.rated())).isTrue();
    }

    @Test
    void consumerKilledBetweenDatabaseCommitAndOffsetCommitLosesAndDoublesNothing() throws Exception {
        TestStreams.Stream s = TestStreams.november(UUID.randomUUID());
        var crashed = consumer.crashAfterNextTransaction();
        TestStreams.send(producer, s);
        crashed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        // The future completes on the dying thread; wait for it to be gone.
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (consumer.isRunning() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(consumer.isRunning()).isFalse();
        long afterCrash = stored(s.org());
        assertThat(afterCrash).isPositive();
        // The stream is also replayed while the consumer is down: more re-deliveries of the same ids.
        TestStreams.send(producer, s);
        consumer.start();
        awaitStored(s.org(), s.size());
        TestStreams.awaitCaughtUp(bootstrap, "domus-billing", WAIT);
        assertThat(stored(s.org())).isEqualTo(s.size());
        assertThat(billing.invoice(s.org(), NOV).rated().sameAs(expected(s))).isTrue();
    }

    @Test
    void brokerRestartMidStreamLosesAndDoublesNothing() throws Exception {
        TestStreams.Stream s = TestStreams.november(UUID.randomUUID());
        int half = s.usage().size() / 2;
        TestStreams.send(producer, new TestStreams.Stream(s.org(), s.usage().subList(0, half), s.lifecycle()));
        KafkaTestResource.service().restart();
        TestStreams.send(producer, new TestStreams.Stream(s.org(), s.usage().subList(half, s.usage().size()),
                java.util.List.of()));
        TestStreams.send(producer, s);
        awaitStored(s.org(), s.size());
        TestStreams.awaitCaughtUp(bootstrap, "domus-billing", WAIT);
        assertThat(billing.invoice(s.org(), NOV).rated().sameAs(expected(s))).isTrue();
    }
}
