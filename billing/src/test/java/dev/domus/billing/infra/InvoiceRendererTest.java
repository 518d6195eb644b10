// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.rating.InvoiceLine;
import dev.domus.billing.rating.LineKind;
import dev.domus.billing.rating.RatedInvoice;
import dev.domus.billing.service.Invoice;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Currency;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

/** CSV quoting and formula guard, PDF pagination and non-Latin text, money formatting per currency. */
class InvoiceRendererTest {
    static Invoice invoice(int lines, String description, Currency cur) {
        List<InvoiceLine> l = new ArrayList<>();
        long sum = 0;
        for (int i = 1; i <= lines; i++) {
            l.add(new InvoiceLine(i, LineKind.ADJUSTMENT, description, Optional.empty(), Optional.empty(),
                    Optional.empty(), BigDecimal.ONE, "each", new BigDecimal("-0.05"), -5));
            sum -= 5;
        }
        UUID org = UUID.randomUUID();
        BillingPeriod p = new BillingPeriod(YearMonth.of(2026, 11));
        return new Invoice(Invoice.idFor(org, p), Invoice.Status.FINALIZED, Instant.parse("2026-12-01T02:00:00Z"),
                new RatedInvoice(org, p, cur, l, 0, sum, sum));
    }

    @Test
    void csvQuotesAndDefusesFormulas() {
        String csv = new String(InvoiceRenderer.csv(invoice(1, "=HYPERLINK(\"x\"), really", Currency.getInstance(
                "EUR"))), StandardCharsets.UTF_8);
        String[] rows = csv.split("\r\n");
        assertThat(rows).hasSize(5);
        assertThat(rows[1]).contains(",\"'=HYPERLINK(\"\"x\"\"), really\",").endsWith(",-0.05,EUR");
        assertThat(rows[4]).endsWith(",total,,,,,,,,-0.05,EUR");
    }

    @Test
    void pdfPaginatesAndSurvivesNonLatinText() throws IOException {
        byte[] pdf = InvoiceRenderer.pdf(invoice(150, "Gutschrift für Ausfall — 停电", Currency.getInstance("JPY")));
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            assertThat(doc.getNumberOfPages()).isGreaterThan(1);
            String text = new PDFTextStripper().getText(doc);
            assertThat(text).contains("Invoice 2026-11").contains("Total -750 JPY").contains("Gutschrift f?r");
        }
    }

    @Test
    void moneyUsesTheCurrencyDigits() {
        assertThat(InvoiceRenderer.money(1234, Currency.getInstance("EUR"))).isEqualTo("12.34");
        assertThat(InvoiceRenderer.money(-5, Currency.getInstance("USD"))).isEqualTo("-0.05");
        assertThat(InvoiceRenderer.money(1234, Currency.getInstance("JPY"))).isEqualTo("1234");
    }
}
