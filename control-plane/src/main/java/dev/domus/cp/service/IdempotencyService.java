// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.domus.cp.domain.DomusException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Idempotency-Key handling. The key row is inserted in the same transaction as the work: a concurrent retry with
 * the same key blocks on the unique key until the first commits, then replays its stored response; a retry with a
 * different body is refused. Failed calls store nothing (their transaction rolls back), so they may be retried.
 */
@ApplicationScoped
public class IdempotencyService {
    @Inject
    EntityManager em;
    @Inject
    ObjectMapper mapper;

    /** A response to store or replay: status and JSON body. */
    public record Stored(int status, String json) {
    }

    /**
     * Runs {@code work} once per (caller, key); {@code request} is the canonical form of what was asked (method,
     * path, parsed body) to detect reuse of a key for another request.
     */
    @Transactional
    public Stored execute(Caller caller, Optional<String> key, Object request, Supplier<Result> work) {
        if (key.isEmpty()) {
            Result r = work.get();
            return new Stored(r.status(), json(r.body()));
        }
        String k = key.get();
        if (k.isEmpty() || k.length() > 255 || !k.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw DomusException.invalid("Idempotency-Key", "1..255 printable ASCII characters");
        }
        String scope = caller.userId().toString();
        // Canonical form: map entries sorted, so the same labels in another order are the same request.
        String hash;
        try {
            hash = sha256(mapper.writer().with(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                    .writeValueAsString(request));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int inserted = em.createNativeQuery("INSERT INTO idempotency_keys (scope, idem_key, request_hash, response_status, "
                        + "response_body, created_at) VALUES (?1, ?2, ?3, 0, '', now()) ON CONFLICT DO NOTHING")
                .setParameter(1, scope).setParameter(2, k).setParameter(3, hash).executeUpdate();
        if (inserted == 0) {
            @SuppressWarnings("unchecked")
            List<Object[]> rows = em.createNativeQuery("SELECT request_hash, response_status, response_body FROM "
                    + "idempotency_keys WHERE scope = ?1 AND idem_key = ?2").setParameter(1, scope).setParameter(2, k)
                    .getResultList();
            Object[] row = rows.getFirst();
            if (!hash.equals(row[0])) {
                throw DomusException.unprocessable("idempotency_key_reused",
                        "Idempotency-Key " + k + " was used for a different request");
            }
            return new Stored(((Number) row[1]).intValue(), (String) row[2]);
        }
        Result r = work.get();
        Stored s = new Stored(r.status(), json(r.body()));
        em.createNativeQuery("UPDATE idempotency_keys SET response_status = ?3, response_body = ?4 WHERE scope = ?1 "
                        + "AND idem_key = ?2").setParameter(1, scope).setParameter(2, k).setParameter(3, s.status())
                .setParameter(4, s.json()).executeUpdate();
        return s;
    }

    /** What the work produced: a status and the body object to serialize. */
    public record Result(int status, Object body) {
    }

    /** Deletes keys older than the retention; called by a scheduled job. */
    @Transactional
    public int expire(java.time.Duration retention) {
        return em.createNativeQuery("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => ?1)")
                .setParameter(1, (double) retention.toSeconds()).executeUpdate();
    }

    private String json(Object o) {
        try {
            return mapper.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
