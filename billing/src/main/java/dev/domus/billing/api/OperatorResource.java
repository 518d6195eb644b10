// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.api;

import dev.domus.api.billing.model.AccountCurrency;
import dev.domus.api.billing.model.AdjustmentCreate;
import dev.domus.api.billing.model.PlanPrice;
import dev.domus.api.billing.model.PriceBook;
import dev.domus.api.billing.model.PromoCode;
import dev.domus.api.billing.model.UnitPrice;
import dev.domus.api.billing.server.BillingOperatorApi;
import dev.domus.billing.rating.BillingPeriod;
import dev.domus.billing.rating.LineKind;
import dev.domus.billing.service.BillingException;
import dev.domus.billing.service.BillingService;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.math.BigDecimal;
import java.util.Optional;
import java.util.UUID;

/** Operator calls: prices, adjustments, promo codes, account currency, re-run and close of a period. */
public class OperatorResource implements BillingOperatorApi {
    @Inject
    BillingService billing;

    @Inject
    CallerAccess access;

    @Override
    public Response getPriceBook() {
        access.requireOperator();
        PriceBook book = new PriceBook();
        for (BillingService.PlanPrice p : billing.planPrices()) {
            book.addPlansItem(new PlanPrice().plan(p.plan()).currency(p.currency())
                    .effectiveFrom(Dto.time(p.effectiveFrom())).hourly(p.hourly().toPlainString())
                    .monthly(p.monthly().toPlainString()).includedTransferGb(p.includedTransferGb()));
        }
        for (BillingService.UnitPrice u : billing.unitPrices()) {
            book.addUnitsItem(new UnitPrice().item(UnitPrice.ItemEnum.fromValue(u.item())).currency(u.currency())
                    .effectiveFrom(Dto.time(u.effectiveFrom())).price(u.price().toPlainString()));
        }
        return Response.ok(book).build();
    }

    @Override
    public Response addPlanPrice(PlanPrice b) {
        access.requireOperator();
        billing.addPlanPrice(new BillingService.PlanPrice(b.getPlan(), b.getCurrency(),
                b.getEffectiveFrom().toInstant(), new BigDecimal(b.getHourly()), new BigDecimal(b.getMonthly()),
                b.getIncludedTransferGb()));
        return Response.status(201).entity(b).build();
    }

    @Override
    public Response addUnitPrice(UnitPrice b) {
        access.requireOperator();
        billing.addUnitPrice(new BillingService.UnitPrice(b.getItem().value(), b.getCurrency(),
                b.getEffectiveFrom().toInstant(), new BigDecimal(b.getPrice())));
        return Response.status(201).entity(b).build();
    }

    @Override
    public Response createPromoCode(PromoCode b) {
        access.requireOperator();
        billing.createPromoCode(b.getCode(), b.getDescription(), b.getCurrency(), b.getAmountMinor(),
                b.getValidUntil().toInstant());
        return Response.status(201).entity(b).build();
    }

    @Override
    public Response setAccountCurrency(UUID org, AccountCurrency b) {
        access.requireOperator();
        BillingService.Account a = billing.updateAccount(org, Optional.of(b.getCurrency()), Optional.empty());
        return Response.ok(Dto.balance(a, billing.draft(org, billing.openPeriod()))).build();
    }

    @Override
    public Response addAdjustment(UUID org, AdjustmentCreate b) {
        access.requireOperator();
        LineKind kind = LineKind.fromWire(b.getKind().value()).orElseThrow(() -> new BillingException(
                BillingException.Code.INVALID, "kind must be credit or adjustment"));
        Optional<UUID> ref = Optional.ofNullable(b.getReferenceInvoiceId());
        UUID id = billing.adjust(org, kind, b.getDescription(), b.getAmountMinor(), ref, access.actor());
        return Response.status(201).entity(Dto.adjustment(id, org, billing.openPeriod().toString(),
                kind.wire(), b.getDescription(), b.getAmountMinor(), billing.account(org).currency()
                        .getCurrencyCode(), ref)).build();
    }

    @Override
    public Response rerunPeriod(UUID org, String period) {
        access.requireOperator();
        return Response.ok(Dto.invoice(billing.rerun(org, BillingPeriod.parse(period)))).build();
    }

    @Override
    public Response closePeriod(UUID org, String period) {
        access.requireOperator();
        return Response.ok(Dto.invoice(billing.close(org, BillingPeriod.parse(period)))).build();
    }
}
