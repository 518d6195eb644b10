// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.api;

import dev.domus.api.billing.model.Adjustment;
import dev.domus.api.billing.model.Balance;
import dev.domus.api.billing.model.Invoice;
import dev.domus.api.billing.model.InvoiceLine;
import dev.domus.api.billing.model.InvoiceSummary;
import dev.domus.api.billing.model.MetricQuantity;
import dev.domus.api.billing.model.ProjectUsage;
import dev.domus.api.billing.model.ResourceUsage;
import dev.domus.api.billing.model.UsageSummary;
import dev.domus.billing.rating.RatedInvoice;
import dev.domus.billing.service.BillingService;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Service records to generated API models. */
final class Dto {
    private Dto() {
    }

    static OffsetDateTime time(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }

    static InvoiceSummary summary(dev.domus.billing.service.Invoice inv) {
        RatedInvoice r = inv.rated();
        return new InvoiceSummary().id(inv.id()).organizationId(r.organizationId()).period(r.period().toString())
                .status(InvoiceSummary.StatusEnum.fromValue(inv.status().name().toLowerCase(Locale.ROOT)))
                .currency(r.currency().getCurrencyCode()).asOf(time(inv.asOf())).usageMinor(r.usageMinor())
                .adjustmentsMinor(r.adjustmentsMinor()).totalMinor(r.totalMinor());
    }

    static Invoice invoice(dev.domus.billing.service.Invoice inv) {
        RatedInvoice r = inv.rated();
        List<InvoiceLine> lines = new ArrayList<>();
        for (dev.domus.billing.rating.InvoiceLine l : r.lines()) {
            lines.add(new InvoiceLine().lineNo(l.lineNo()).kind(InvoiceLine.KindEnum.fromValue(l.kind().wire()))
                    .description(l.description()).projectId(l.projectId().orElse(null))
                    .resourceId(l.resourceId().orElse(null)).plan(l.plan().orElse(null))
                    .quantity(l.quantity().toPlainString()).unit(l.unit()).unitPrice(l.unitPrice().toPlainString())
                    .amountMinor(l.amountMinor()));
        }
        return new Invoice().id(inv.id()).organizationId(r.organizationId()).period(r.period().toString())
                .status(Invoice.StatusEnum.fromValue(inv.status().name().toLowerCase(Locale.ROOT)))
                .currency(r.currency().getCurrencyCode()).asOf(time(inv.asOf())).usageMinor(r.usageMinor())
                .adjustmentsMinor(r.adjustmentsMinor()).totalMinor(r.totalMinor()).lines(lines);
    }

    static Balance balance(BillingService.Account a, dev.domus.billing.service.Invoice draft) {
        return new Balance().organizationId(a.organizationId()).period(draft.rated().period().toString())
                .currency(draft.rated().currency().getCurrencyCode()).monthToDateMinor(draft.rated().totalMinor())
                .asOf(time(draft.asOf())).alertThresholdMinor(a.alertThresholdMinor().orElse(null));
    }

    static Adjustment adjustment(UUID id, UUID org, String period, String kind, String description, long amount,
            String currency, Optional<UUID> reference) {
        return new Adjustment().id(id).organizationId(org).period(period)
                .kind(Adjustment.KindEnum.fromValue(kind)).description(description).amountMinor(amount)
                .currency(currency).referenceInvoiceId(reference.orElse(null));
    }

    /** Groups the draft's lines and the raw quantities by project and resource. */
    static UsageSummary usage(dev.domus.billing.service.Invoice draft, List<BillingService.ResourceUsage> raw) {
        RatedInvoice r = draft.rated();
        Map<Optional<UUID>, Map<UUID, ResourceUsage>> byProject = new LinkedHashMap<>();
        Map<UUID, Optional<UUID>> projectOf = new LinkedHashMap<>();
        for (BillingService.ResourceUsage u : raw) {
            projectOf.putIfAbsent(u.resourceId(), u.projectId());
            resource(byProject, u.projectId(), u.resourceId()).addMetricsItem(new MetricQuantity()
                    .metric(MetricQuantity.MetricEnum.fromValue(u.metric())).quantity(u.quantity()));
        }
        for (dev.domus.billing.rating.InvoiceLine l : r.lines()) {
            if (l.kind().isAdjustment() || l.resourceId().isEmpty()) {
                continue;
            }
            UUID res = l.resourceId().get();
            Optional<UUID> project = l.projectId().isPresent() ? l.projectId()
                    : projectOf.getOrDefault(res, Optional.empty());
            ResourceUsage ru = resource(byProject, project, res);
            ru.setAmountMinor(ru.getAmountMinor() + l.amountMinor());
        }
        List<ProjectUsage> projects = new ArrayList<>();
        for (Map.Entry<Optional<UUID>, Map<UUID, ResourceUsage>> e : byProject.entrySet()) {
            long sum = 0;
            for (ResourceUsage ru : e.getValue().values()) {
                sum += ru.getAmountMinor();
            }
            projects.add(new ProjectUsage().projectId(e.getKey().orElse(null)).amountMinor(sum)
                    .resources(new ArrayList<>(e.getValue().values())));
        }
        return new UsageSummary().organizationId(r.organizationId()).period(r.period().toString())
                .currency(r.currency().getCurrencyCode()).asOf(time(draft.asOf())).projects(projects)
                .totalMinor(r.totalMinor());
    }

    private static ResourceUsage resource(Map<Optional<UUID>, Map<UUID, ResourceUsage>> byProject,
            Optional<UUID> project, UUID resource) {
        return byProject.computeIfAbsent(project, k -> new LinkedHashMap<>()).computeIfAbsent(resource,
                k -> new ResourceUsage().resourceId(k).metrics(new ArrayList<>()).amountMinor(0L));
    }
}
