// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.QuotaResource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Project quotas. A reservation is a conditional UPDATE ({@code used + n <= lim}) in the caller's transaction: the
 * row lock serializes parallel reservations and PostgreSQL re-checks the condition after the wait, so concurrent
 * creates can never exceed a limit. Resources are taken in enum order so two reservations never deadlock.
 */
@ApplicationScoped
public class QuotaService {
    @Inject
    EntityManager em;

    /** One limit and its usage. */
    public record Quota(QuotaResource resource, long limit, long used) {
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void reserve(UUID projectId, Map<QuotaResource, Long> amounts) {
        for (Map.Entry<QuotaResource, Long> e : new EnumMap<>(amounts).entrySet()) {
            long n = e.getValue();
            if (n <= 0) {
                continue;
            }
            int updated = em.createNativeQuery(
                            "UPDATE quotas SET used = used + ?1 WHERE project_id = ?2 AND resource = ?3 AND used + ?1 <= lim")
                    .setParameter(1, n).setParameter(2, projectId).setParameter(3, e.getKey().wire())
                    .executeUpdate();
            if (updated == 0) {
                Quota q = get(projectId, e.getKey());
                throw new DomusException(DomusException.Kind.CONFLICT, "quota_exceeded",
                        "quota " + e.getKey().wire() + " exceeded: limit " + q.limit() + ", used " + q.used()
                                + ", requested " + n);
            }
        }
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void release(UUID projectId, Map<QuotaResource, Long> amounts) {
        for (Map.Entry<QuotaResource, Long> e : new EnumMap<>(amounts).entrySet()) {
            if (e.getValue() > 0) {
                em.createNativeQuery("UPDATE quotas SET used = GREATEST(0, used - ?1) WHERE project_id = ?2 AND resource = ?3")
                        .setParameter(1, e.getValue()).setParameter(2, projectId).setParameter(3, e.getKey().wire())
                        .executeUpdate();
            }
        }
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void initialize(UUID projectId, String tier) {
        em.createNativeQuery("INSERT INTO quotas (project_id, resource, lim, used) "
                        + "SELECT ?1, resource, lim, 0 FROM tier_quota_defaults WHERE tier = ?2")
                .setParameter(1, projectId).setParameter(2, tier).executeUpdate();
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void setLimit(UUID projectId, QuotaResource resource, long limit) {
        em.createNativeQuery("INSERT INTO quotas (project_id, resource, lim, used) VALUES (?1, ?2, ?3, 0) "
                        + "ON CONFLICT (project_id, resource) DO UPDATE SET lim = EXCLUDED.lim")
                .setParameter(1, projectId).setParameter(2, resource.wire()).setParameter(3, limit).executeUpdate();
    }

    public List<Quota> list(UUID projectId) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery("SELECT resource, lim, used FROM quotas WHERE project_id = ?1")
                .setParameter(1, projectId).getResultList();
        List<Quota> out = new ArrayList<>();
        for (Object[] r : rows) {
            out.add(new Quota(QuotaResource.fromWire((String) r[0]), ((Number) r[1]).longValue(),
                    ((Number) r[2]).longValue()));
        }
        out.sort((a, b) -> a.resource().compareTo(b.resource()));
        return out;
    }

    Quota get(UUID projectId, QuotaResource r) {
        return list(projectId).stream().filter(q -> q.resource() == r).findFirst()
                .orElse(new Quota(r, 0, 0));
    }

    /** The quota amounts of one server of the given size. */
    public static Map<QuotaResource, Long> server(int vcpus, int memoryMb, int diskGb, int count) {
        Map<QuotaResource, Long> m = new EnumMap<>(QuotaResource.class);
        m.put(QuotaResource.VPS, (long) count);
        m.put(QuotaResource.VCPUS, (long) vcpus);
        m.put(QuotaResource.MEMORY_MB, (long) memoryMb);
        m.put(QuotaResource.DISK_GB, (long) diskGb);
        return m;
    }
}
