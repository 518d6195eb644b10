// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.nullValue;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.Topics;
import dev.domus.api.events.UsageMetric;
import dev.domus.api.events.BillingAlertEvent;
import dev.domus.billing.TestStreams;
import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.service.AlertService;
import dev.domus.billing.service.BillingService;
import dev.domus.billing.service.IngestService;
import dev.domus.billing.service.Invoice;
import dev.domus.stack.quarkus.KafkaTestResource;
import dev.domus.stack.quarkus.KeycloakTestResource;
import dev.domus.stack.quarkus.PostgresTestResource;
import dev.domus.stack.KeycloakService;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The billing API over HTTP against real PostgreSQL (usage stored through the ingest service). */
@QuarkusTest
@WithTestResource(value = PostgresTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "database", value = "billing"))
@WithTestResource(value = KafkaTestResource.class, scope = TestResourceScope.GLOBAL,
        initArgs = @ResourceArg(name = "topics", value = TestStreams.TOPICS))
@WithTestResource(value = KeycloakTestResource.class, scope = TestResourceScope.GLOBAL)
class BillingApiTest {
    static final BillingPeriod NOV = new BillingPeriod(YearMonth.of(2026, 11));

    @Inject
    IngestService ingest;

    @Inject
    BillingService billing;

    @Inject
    AlertService alerts;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "domus.test.token-url")
    String tokenUrl;
    @ConfigProperty(name = "domus.test.user.ops.username")
    String ops;
    @ConfigProperty(name = "domus.test.user.ops.password")
    String opsPassword;

    /**
     * Every call of this class is made as the operator (realm role {@code operator}, allowed on tenant routes too);
     * tenant scoping against the control plane is {@code BillingAuthTest}'s subject.
     */
    @BeforeEach
    void asOperator() {
        String jwt = KeycloakService.passwordGrant(tokenUrl, ops, opsPassword);
        RestAssured.authentication = RestAssured.oauth2(jwt);
    }

    @AfterEach
    void anonymousAgain() {
        RestAssured.authentication = RestAssured.DEFAULT_AUTH;
    }

    UUID org(TestStreams.Stream s) {
        ingest.store(s.usage(), s.lifecycle());
        return s.org();
    }

    static String base(UUID org) {
        return "/v1/billing/organizations/" + org;
    }

    @Test
    void invoicesDraftCloseAdjustPdfCsv() throws Exception {
        UUID org = org(TestStreams.november(UUID.randomUUID()));
        UUID nov = Invoice.idFor(org, NOV);

        JsonPath list = given().get(base(org) + "/invoices").then().statusCode(200).extract().jsonPath();
        assertThat(list.getString("items[0].period")).isEqualTo(billing.openPeriod().toString());
        assertThat(list.getString("items[0].status")).isEqualTo("draft");
        // VPS a was never deleted: it keeps being billed in the open month.
        assertThat(list.getLong("items[0].total_minor")).isPositive();

        JsonPath draft = given().get(base(org) + "/invoices/" + nov).then().statusCode(200).extract().jsonPath();
        assertThat(draft.getString("status")).isEqualTo("draft");
        assertThat(draft.getList("lines.kind", String.class)).contains("vps_hours", "transfer", "snapshot");
        long novTotal = draft.getLong("total_minor");
        assertThat(novTotal).isEqualTo(billing.invoice(org, NOV).rated().totalMinor());

        given().post(base(org) + "/periods/2026-11/rerun").then().statusCode(200)
                .body("total_minor", equalTo((int) novTotal));
        given().post(base(org) + "/periods/2026-11/close").then().statusCode(200).body("status", equalTo("finalized"))
                .body("total_minor", equalTo((int) novTotal));
        given().post(base(org) + "/periods/2026-11/rerun").then().statusCode(409)
                .contentType("application/problem+json").body("code", equalTo("period_closed"));
        given().post(base(org) + "/periods/" + billing.openPeriod() + "/close").then().statusCode(409)
                .body("code", equalTo("conflict"));

        // A correction of the closed month is an adjustment on the open one.
        given().contentType(ContentType.JSON).body("""
                {"kind":"credit","description":"outage 2026-11-10","amount_minor":-150,"reference_invoice_id":"%s"}"""
                .formatted(nov)).post(base(org) + "/adjustments").then().statusCode(201)
                .body("period", equalTo(billing.openPeriod().toString())).body("amount_minor", equalTo(-150));
        UUID open = Invoice.idFor(org, billing.openPeriod());
        given().get(base(org) + "/invoices/" + open).then().statusCode(200)
                .body("lines.kind", hasItem("credit")).body("adjustments_minor", equalTo(-150));
        given().get(base(org) + "/invoices/" + nov).then().statusCode(200).body("status", equalTo("finalized"))
                .body("total_minor", equalTo((int) novTotal));

        byte[] pdf = given().get(base(org) + "/invoices/" + nov + "/pdf").then().statusCode(200)
                .contentType("application/pdf").extract().asByteArray();
        assertThat(new String(pdf, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            String text = new PDFTextStripper().getText(doc);
            assertThat(text).contains("Invoice 2026-11").contains(org.toString())
                    .contains("Total " + dev.domus.billing.infra.InvoiceRenderer.money(novTotal,
                            java.util.Currency.getInstance("EUR")) + " EUR");
        }
        String csv = given().get(base(org) + "/invoices/" + nov + "/csv").then().statusCode(200)
                .contentType("text/csv").extract().asString();
        String[] rows = csv.split("\r\n");
        int lines = billing.invoice(org, NOV).rated().lines().size();
        assertThat(rows).hasSize(1 + lines + 3);
        assertThat(rows[0]).startsWith("invoice_id,organization_id,period,status,line_no,kind");
        assertThat(rows[rows.length - 1]).contains(",total,").endsWith(
                dev.domus.billing.infra.InvoiceRenderer.money(novTotal, java.util.Currency.getInstance("EUR"))
                        + ",EUR");

        JsonPath usage = given().queryParam("period", "2026-11").get(base(org) + "/usage").then().statusCode(200)
                .extract().jsonPath();
        assertThat(usage.getLong("total_minor")).isEqualTo(novTotal);
        assertThat(usage.getList("projects[0].resources.metrics.metric").toString()).contains("vps_minutes")
                .contains("snapshot_gb_hours");
    }

    @Test
    void promoCodesPricesAndBadInput() {
        UUID org = org(TestStreams.november(UUID.randomUUID()));
        String code = "WELCOME" + Integer.toHexString(org.hashCode() & 0xffff).toUpperCase();
        given().contentType(ContentType.JSON).body("""
                {"code":"%s","description":"welcome","currency":"EUR","amount_minor":500,
                 "valid_until":"2030-01-01T00:00:00Z"}""".formatted(code)).post("/v1/billing/promo-codes")
                .then().statusCode(201);
        given().contentType(ContentType.JSON).body("{\"code\":\"" + code + "\"}")
                .post(base(org) + "/promo-redemptions").then().statusCode(201).body("kind", equalTo("promo"))
                .body("amount_minor", equalTo(-500));
        given().contentType(ContentType.JSON).body("{\"code\":\"" + code + "\"}")
                .post(base(org) + "/promo-redemptions").then().statusCode(409).body("code", equalTo("conflict"));

        given().contentType(ContentType.JSON).body("""
                {"plan":"s-1","currency":"EUR","effective_from":"2026-11-15T00:00:00Z","hourly":"0.007",
                 "monthly":"5.00","included_transfer_gb":1000}""").post("/v1/billing/prices/plans")
                .then().statusCode(409).body("code", equalTo("period_closed"));
        String from = billing.openPeriod().next().start().toString();
        given().contentType(ContentType.JSON).body("""
                {"plan":"s-%s","currency":"EUR","effective_from":"%s","hourly":"0.007",
                 "monthly":"5.00","included_transfer_gb":1000}""".formatted(code, from))
                .post("/v1/billing/prices/plans").then().statusCode(201);
        given().get("/v1/billing/prices").then().statusCode(200).body("plans.plan", hasItem("s-" + code));

        given().queryParam("period", "2026-13").get(base(org) + "/usage").then().statusCode(400);
        given().get(base(org) + "/invoices/" + UUID.randomUUID()).then().statusCode(404)
                .body("code", equalTo("not_found"));
        given().contentType(ContentType.JSON).body("{\"kind\":\"credit\",\"description\":\"x\",\"amount_minor\":-1,"
                + "\"bogus\":1}").post(base(org) + "/adjustments").then().statusCode(400);
        given().contentType(ContentType.JSON).body("{\"kind\":\"credit\",\"description\":\"x\",\"amount_minor\":5}")
                .post(base(org) + "/adjustments").then().statusCode(400).body("detail",
                        equalTo("a credit must be negative, got 5"));
        // The currency of an organization with adjustments is fixed.
        given().contentType(ContentType.JSON).body("{\"currency\":\"JPY\"}").put(base(org) + "/account").then()
                .statusCode(409);
    }

    @Test
    void jpyAccountHasNoMinorUnit() {
        UUID org = UUID.randomUUID();
        given().contentType(ContentType.JSON).body("{\"currency\":\"JPY\"}").put(base(org) + "/account").then()
                .statusCode(200).body("currency", equalTo("JPY"));
        UUID vps = UUID.randomUUID();
        UUID project = UUID.randomUUID();
        List<dev.domus.api.events.UsageEvent> u = new ArrayList<>();
        Instant t = Instant.parse("2026-11-03T00:00:00Z");
        for (int h = 0; h < 5; h++) {
            u.add(TestStreams.usage(org, project, vps, UsageMetric.VPS_MINUTES, 60, "s-2", t.plusSeconds(h * 3600L),
                    t.plusSeconds((h + 1) * 3600L)));
        }
        ingest.store(u, List.of());
        // 5 h * 3 JPY.
        given().get(base(org) + "/invoices/" + Invoice.idFor(org, NOV)).then().statusCode(200)
                .body("currency", equalTo("JPY")).body("total_minor", equalTo(15))
                .body("lines[0].unit_price", equalTo("3"));
    }

    @Test
    void alertThresholdEmitsOneEventPerCrossing() throws Exception {
        UUID org = org(TestStreams.november(UUID.randomUUID()));
        given().contentType(ContentType.JSON).body("{\"threshold_minor\":1}").put(base(org) + "/alert-threshold")
                .then().statusCode(200).body("alert_threshold_minor", equalTo(1));
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "alert-test-" + org);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<BillingAlertEvent> got = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            c.subscribe(List.of(Topics.BILLING_ALERTS));
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    BillingAlertEvent e = EventCodec.read(r.value(), BillingAlertEvent.class);
                    if (e.organizationId().equals(org)) {
                        got.add(e);
                    }
                }
            }
        }
        assertThat(got).hasSize(1);
        assertThat(got.getFirst().thresholdMinor()).isEqualTo(1);
        assertThat(got.getFirst().monthToDateMinor()).isGreaterThanOrEqualTo(1);
        assertThat(got.getFirst().period()).isEqualTo(billing.openPeriod().toString());
        // Still above the threshold: no second crossing.
        assertThat(alerts.check()).isZero();
        assertThat(alerts.relay()).isZero();
        given().delete(base(org) + "/alert-threshold").then().statusCode(204);
        given().get(base(org) + "/balance").then().statusCode(200).body("alert_threshold_minor",
                nullValue());
    }
}
