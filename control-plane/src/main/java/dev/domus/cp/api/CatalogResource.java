// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.api.model.ImageCreate;
import dev.domus.api.model.ImageList;
import dev.domus.api.model.PlanCreate;
import dev.domus.api.model.PlanList;
import dev.domus.api.model.RegionList;
import dev.domus.api.server.CatalogApi;
import dev.domus.cp.service.Caller;
import dev.domus.cp.service.CatalogService;
import dev.domus.cp.service.IdempotencyService;
import io.quarkus.security.Authenticated;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.util.Optional;

/** Plans, images, regions. */
@Authenticated
@jakarta.ws.rs.Path("")
public class CatalogResource implements CatalogApi {
    @Inject
    CurrentCaller current;
    @Inject
    BodyCheck check;
    @Inject
    CatalogService catalog;
    @Inject
    IdempotencyService idempotency;

    @Override
    public Response listPlans() {
        return Responses.ok(new PlanList().items(catalog.plans(current.get()).stream().map(Dto::plan).toList()));
    }

    @Override
    public Response listImages() {
        return Responses.ok(new ImageList().items(catalog.images(current.get()).stream().map(Dto::image).toList()));
    }

    @Override
    public Response listRegions() {
        return Responses.ok(new RegionList().items(catalog.regions(current.get()).stream().map(Dto::region).toList()));
    }

    @Override
    public Response createPlan(PlanCreate b, String idempotencyKey) {
        check.valid(b);
        Caller c = current.get();
        return Responses.idempotent(idempotency, c, idempotencyKey, "POST /v1/plans", b, 201,
                () -> Dto.plan(catalog.createPlan(c, new CatalogService.NewPlan(b.getName(), b.getVcpus(),
                        b.getMemoryMb(), b.getDiskGb(), b.getTransferGb(), b.getPriceHourlyMinor(),
                        b.getPriceMonthlyMinor(), b.getCurrency()))));
    }

    @Override
    public Response createImage(ImageCreate b, String idempotencyKey) {
        check.valid(b);
        Caller c = current.get();
        return Responses.idempotent(idempotency, c, idempotencyKey, "POST /v1/images", b, 201,
                () -> Dto.image(catalog.createImage(c, b.getName(), b.getArch().toString(), b.getVersion(),
                        Optional.ofNullable(b.getDescription()), Optional.ofNullable(b.getStatus())
                                .map(Object::toString))));
    }
}
