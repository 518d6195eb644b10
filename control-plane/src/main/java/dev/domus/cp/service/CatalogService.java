// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.Ids;
import dev.domus.cp.domain.ImageEntity;
import dev.domus.cp.domain.PlanEntity;
import dev.domus.cp.domain.RegionEntity;
import dev.domus.cp.domain.Scope;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.Optional;

/** Plans, images and regions: readable by every authenticated caller, changed by operators. */
@ApplicationScoped
public class CatalogService {
    @Inject
    Access access;

    /** A new plan's fields. */
    public record NewPlan(String name, int vcpus, int memoryMb, int diskGb, int transferGb, long priceHourlyMinor,
                          long priceMonthlyMinor, String currency) {
    }

    public List<PlanEntity> plans(Caller caller) {
        access.requireScope(caller, Scope.READ);
        return PlanEntity.listAll(Sort.by("vcpus").and("memoryMb").and("name"));
    }

    public List<ImageEntity> images(Caller caller) {
        access.requireScope(caller, Scope.READ);
        return ImageEntity.listAll(Sort.by("name"));
    }

    public List<RegionEntity> regions(Caller caller) {
        access.requireScope(caller, Scope.READ);
        return RegionEntity.listAll(Sort.by("name"));
    }

    @Transactional
    public PlanEntity createPlan(Caller caller, NewPlan n) {
        access.requireOperator(caller);
        access.requireScope(caller, Scope.ADMIN);
        if (PlanEntity.count("name", n.name()) > 0) {
            throw DomusException.conflict("already_exists", "plan " + n.name() + " exists");
        }
        if (n.priceMonthlyMinor() < n.priceHourlyMinor()) {
            throw DomusException.invalid("price_monthly_minor", "must not be below the hourly price");
        }
        PlanEntity p = new PlanEntity();
        p.id = Ids.next();
        p.name = n.name();
        p.vcpus = n.vcpus();
        p.memoryMb = n.memoryMb();
        p.diskGb = n.diskGb();
        p.transferGb = n.transferGb();
        p.priceHourlyMinor = n.priceHourlyMinor();
        p.priceMonthlyMinor = n.priceMonthlyMinor();
        p.currency = n.currency();
        p.available = true;
        p.persist();
        Access.resource("plan", p.id);
        return p;
    }

    @Transactional
    public ImageEntity createImage(Caller caller, String name, String arch, String version, Optional<String> description,
                                   Optional<String> status) {
        access.requireOperator(caller);
        access.requireScope(caller, Scope.ADMIN);
        if (ImageEntity.count("name", name) > 0) {
            throw DomusException.conflict("already_exists", "image " + name + " exists");
        }
        ImageEntity i = new ImageEntity();
        i.id = Ids.next();
        i.name = name;
        i.arch = arch;
        i.version = version;
        i.description = description.orElse("");
        i.status = status.orElse("available");
        i.createdAt = UserService.now();
        i.persist();
        Access.resource("image", i.id);
        return i;
    }

    public PlanEntity plan(String name) {
        PlanEntity p = PlanEntity.find("name", name).firstResult();
        if (p == null || !p.available) {
            throw DomusException.unprocessable("invalid_reference", "unknown plan " + name);
        }
        return p;
    }

    public ImageEntity image(String name) {
        ImageEntity i = ImageEntity.find("name", name).firstResult();
        if (i == null || !"available".equals(i.status)) {
            throw DomusException.unprocessable("invalid_reference", "unknown or unavailable image " + name);
        }
        return i;
    }

    public RegionEntity region(String name) {
        RegionEntity r = RegionEntity.find("name", name).firstResult();
        if (r == null || !r.available) {
            throw DomusException.unprocessable("invalid_reference", "unknown region " + name);
        }
        return r;
    }
}
