// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.infra;

import dev.domus.billing.rating.InvoiceLine;
import dev.domus.billing.rating.RatedInvoice;
import dev.domus.billing.service.Invoice;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Currency;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDDocumentInformation;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;

/** Renders an invoice as PDF (Apache PDFBox, standard fonts, A4, as many pages as the lines need) and as CSV. */
public final class InvoiceRenderer {
    private static final float MARGIN = 50;
    private static final float LEADING = 13;

    private InvoiceRenderer() {
    }

    /** Major units with the currency's digits, e.g. 1234 EUR -> "12.34", 1234 JPY -> "1234". */
    public static String money(long minor, Currency cur) {
        return BigDecimal.valueOf(minor).movePointLeft(Math.max(0, cur.getDefaultFractionDigits())).toPlainString();
    }

    /** One header row, one row per line, then usage/adjustments/total rows; RFC 4180 quoting, UTF-8. */
    public static byte[] csv(Invoice inv) {
        RatedInvoice r = inv.rated();
        Currency cur = r.currency();
        StringBuilder sb = new StringBuilder();
        sb.append("invoice_id,organization_id,period,status,line_no,kind,description,project_id,resource_id,plan,"
                + "quantity,unit,unit_price,amount,currency\r\n");
        for (InvoiceLine l : r.lines()) {
            row(sb, inv.id().toString(), r.organizationId().toString(), r.period().toString(),
                    inv.status().name().toLowerCase(java.util.Locale.ROOT), Integer.toString(l.lineNo()),
                    l.kind().wire(), l.description(), l.projectId().map(Object::toString).orElse(""),
                    l.resourceId().map(Object::toString).orElse(""), l.plan().orElse(""),
                    l.quantity().toPlainString(), l.unit(), l.unitPrice().toPlainString(),
                    money(l.amountMinor(), cur), cur.getCurrencyCode());
        }
        String status = inv.status().name().toLowerCase(java.util.Locale.ROOT);
        row(sb, inv.id().toString(), r.organizationId().toString(), r.period().toString(), status, "", "usage_total",
                "", "", "", "", "", "", "", money(r.usageMinor(), cur), cur.getCurrencyCode());
        row(sb, inv.id().toString(), r.organizationId().toString(), r.period().toString(), status, "",
                "adjustments_total", "", "", "", "", "", "", "", money(r.adjustmentsMinor(), cur),
                cur.getCurrencyCode());
        row(sb, inv.id().toString(), r.organizationId().toString(), r.period().toString(), status, "", "total", "",
                "", "", "", "", "", "", money(r.totalMinor(), cur), cur.getCurrencyCode());
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void row(StringBuilder sb, String... cells) {
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(cell(cells[i]));
        }
        sb.append("\r\n");
    }

    private static String cell(String s) {
        String v = s;
        // A spreadsheet would evaluate a text cell starting like a formula; numbers are never quoted this way.
        if (!v.isEmpty() && "=+@\t\r".indexOf(v.charAt(0)) >= 0) {
            v = "'" + v;
        }
        if (v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0) {
            return '"' + v.replace("\"", "\"\"") + '"';
        }
        return v;
    }

    public static byte[] pdf(Invoice inv) {
        RatedInvoice r = inv.rated();
        Currency cur = r.currency();
        PDType1Font regular = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
        PDType1Font bold = new PDType1Font(Standard14Fonts.FontName.HELVETICA_BOLD);
        // The line table is monospaced so its columns line up.
        PDType1Font mono = new PDType1Font(Standard14Fonts.FontName.COURIER);
        PDType1Font monoBold = new PDType1Font(Standard14Fonts.FontName.COURIER_BOLD);
        try (PDDocument doc = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            PDDocumentInformation info = doc.getDocumentInformation();
            info.setTitle("Domus invoice " + r.period() + " " + r.organizationId());
            info.setCreator("domus-billing");
            Page page = new Page(doc);
            page.text(bold, 16, (inv.status() == Invoice.Status.DRAFT ? "DRAFT invoice " : "Invoice ") + r.period());
            page.text(regular, 9, "Invoice " + inv.id());
            page.text(regular, 9, "Organization " + r.organizationId());
            page.text(regular, 9, (inv.status() == Invoice.Status.DRAFT ? "Month to date as of " : "Finalized ")
                    + inv.asOf() + " - all times UTC, amounts in " + cur.getCurrencyCode());
            page.gap();
            page.text(monoBold, 8, String.format("%-4s %-58s %14s %12s", "#", "description", "quantity", "amount"));
            for (InvoiceLine l : r.lines()) {
                page = page.ensureRoom(doc, 2);
                page.text(mono, 8, String.format("%-4d %-58s %14s %12s", l.lineNo(), clip(l.description(), 58),
                        clip(l.quantity().toPlainString() + " " + l.unit(), 14), money(l.amountMinor(), cur)));
                page.text(mono, 7, "      " + l.kind().wire() + " at " + l.unitPrice().toPlainString() + " "
                        + cur.getCurrencyCode() + "/" + l.unit());
            }
            page = page.ensureRoom(doc, 4);
            page.gap();
            page.text(regular, 9, "Usage " + money(r.usageMinor(), cur) + " " + cur.getCurrencyCode());
            page.text(regular, 9, "Credits and adjustments " + money(r.adjustmentsMinor(), cur) + " "
                    + cur.getCurrencyCode());
            page.text(bold, 11, "Total " + money(r.totalMinor(), cur) + " " + cur.getCurrencyCode());
            page.close();
            doc.save(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("rendering invoice " + inv.id() + " failed", e);
        }
    }

    private static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "~";
    }

    /** Standard 14 fonts encode WinAnsi only: anything else becomes '?'. */
    private static String safe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            b.append(ch >= 0x20 && ch < 0x7f ? ch : '?');
        }
        return b.toString();
    }

    /** One page being written top to bottom. */
    private static final class Page {
        private final PDPageContentStream cs;
        private float y;

        Page(PDDocument doc) throws IOException {
            PDPage p = new PDPage(PDRectangle.A4);
            doc.addPage(p);
            cs = new PDPageContentStream(doc, p);
            y = PDRectangle.A4.getHeight() - MARGIN;
        }

        void text(PDType1Font font, float size, String s) throws IOException {
            cs.beginText();
            cs.setFont(font, size);
            cs.newLineAtOffset(MARGIN, y);
            cs.showText(safe(s));
            cs.endText();
            y -= LEADING;
        }

        void gap() {
            y -= LEADING / 2;
        }

        Page ensureRoom(PDDocument doc, int lines) throws IOException {
            if (y - lines * LEADING > MARGIN) {
                return this;
            }
            close();
            return new Page(doc);
        }

        void close() throws IOException {
            cs.close();
        }
    }
}
