// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.api;

import dev.domus.api.billing.model.AlertThreshold;
import dev.domus.api.billing.model.InvoiceList;
import dev.domus.api.billing.model.PromoRedemption;
import dev.domus.api.billing.server.BillingApi;
import dev.domus.billing.infra.ControlPlaneAccess;
import dev.domus.billing.infra.InvoiceRenderer;
import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.service.BillingService;
import dev.domus.billing.service.Invoice;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.UUID;

/** Tenant reads and settings of one organization's billing: members read, admins and owners change settings. */
public class BillingResource implements BillingApi {
    @Inject
    BillingService billing;

    @Inject
    CallerAccess access;

    @Override
    public Response getBalance(UUID org) {
        access.requireTenant(org, ControlPlaneAccess.Need.READ);
        return Response.ok(Dto.balance(billing.account(org), billing.draft(org, billing.openPeriod()))).build();
    }

    @Override
    public Response getUsageSummary(UUID org, String period) {
        access.requireTenant(org, ControlPlaneAccess.Need.READ);
        BillingPeriod p = period == null ? billing.openPeriod() : BillingPeriod.parse(period);
        Invoice inv = billing.invoice(org, p);
        return Response.ok(Dto.usage(inv, billing.usage(org, p))).build();
    }

    @Override
    public Response listInvoices(UUID org) {
        access.requireTenant(org, ControlPlaneAccess.Need.READ);
        InvoiceList list = new InvoiceList();
        for (Invoice i : billing.invoices(org)) {
            list.addItemsItem(Dto.summary(i));
        }
        return Response.ok(list).build();
    }

    @Override
    public Response getInvoice(UUID org, UUID invoiceId) {
        access.requireTenant(org, ControlPlaneAccess.Need.READ);
        return Response.ok(Dto.invoice(billing.invoiceById(org, invoiceId))).build();
    }

    @Override
    public Response getInvoicePdf(UUID org, UUID invoiceId) {
        return invoiceFile(org, invoiceId, "pdf", "application/pdf", InvoiceRenderer::pdf);
    }

    @Override
    public Response getInvoiceCsv(UUID org, UUID invoiceId) {
        return invoiceFile(org, invoiceId, "csv", "text/csv; charset=utf-8", InvoiceRenderer::csv);
    }

    /** An invoice rendered as a download named after its period ({@code invoice-2026-11.pdf}). */
    private Response invoiceFile(UUID org, UUID invoiceId, String extension, String mediaType,
                                 java.util.function.Function<Invoice, byte[]> render) {
        access.requireTenant(org, ControlPlaneAccess.Need.READ);
        Invoice inv = billing.invoiceById(org, invoiceId);
        return Response.ok(render.apply(inv), mediaType).header("Content-Disposition",
                "attachment; filename=\"invoice-" + inv.rated().period() + "." + extension + "\"").build();
    }

    @Override
    public Response setAlertThreshold(UUID org, AlertThreshold body) {
        access.requireTenant(org, ControlPlaneAccess.Need.MANAGE);
        BillingService.Account a = billing.updateAccount(org, Optional.empty(),
                Optional.of(Optional.of(body.getThresholdMinor())));
        return Response.ok(Dto.balance(a, billing.draft(org, billing.openPeriod()))).build();
    }

    @Override
    public Response clearAlertThreshold(UUID org) {
        access.requireTenant(org, ControlPlaneAccess.Need.MANAGE);
        billing.updateAccount(org, Optional.empty(), Optional.of(Optional.empty()));
        return Response.noContent().build();
    }

    @Override
    public Response redeemPromoCode(UUID org, PromoRedemption body) {
        access.requireTenant(org, ControlPlaneAccess.Need.MANAGE);
        UUID id = billing.redeem(org, body.getCode(), access.actor());
        Invoice draft = billing.draft(org, billing.openPeriod());
        dev.domus.billing.rating.InvoiceLine line = draft.rated().lines().stream()
                .filter(l -> l.resourceId().equals(Optional.of(id))).findFirst().orElseThrow();
        return Response.status(201).entity(Dto.adjustment(id, org, draft.rated().period().toString(), "promo",
                line.description(), line.amountMinor(), draft.rated().currency().getCurrencyCode(),
                Optional.empty())).build();
    }
}
