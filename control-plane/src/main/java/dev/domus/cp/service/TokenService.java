// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.auth.PersonalTokens;
import dev.domus.cp.domain.DomusException;
import dev.domus.cp.domain.Ids;
import dev.domus.cp.domain.Scope;
import dev.domus.cp.domain.TokenEntity;
import dev.domus.cp.domain.UserEntity;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Personal access tokens: {@code dpat_} + 256 random bits, shown once; the database keeps only their SHA-256 (the
 * secret has full entropy, so a plain hash is enough and lookups are one index probe).
 */
@ApplicationScoped
public class TokenService {
    private static final Logger LOG = Logger.getLogger(TokenService.class);
    private static final Duration LAST_USED_GRANULARITY = Duration.ofMinutes(1);

    /** A new token and its secret (which is not stored). */
    public record Created(TokenEntity token, String secret) {
    }

    @Transactional
    public Created create(Caller caller, String name, Set<Scope> scopes, Optional<Integer> expiresInDays) {
        if (caller.kind() == Caller.Kind.TOKEN && !caller.has(Scope.ADMIN)) {
            throw DomusException.insufficientScope("admin");
        }
        if (scopes.isEmpty()) {
            throw DomusException.invalid("scopes", "at least one scope");
        }
        for (Scope s : scopes) {
            if (!caller.has(s)) {
                throw DomusException.forbidden("a token cannot grant scope " + s.wire() + " its creator lacks");
            }
        }
        String secret = PersonalTokens.newSecret();
        TokenEntity t = new TokenEntity();
        t.id = Ids.next();
        t.userId = caller.userId();
        t.name = name;
        t.scopes = Scope.join(scopes);
        t.prefix = secret.substring(0, 12);
        t.secretHash = PersonalTokens.hash(secret);
        t.createdAt = UserService.now();
        t.expiresAt = expiresInDays.map(d -> t.createdAt.plusDays(d)).orElse(null);
        t.persist();
        Access.resource("token", t.id);
        LOG.infof("event=token.created user=%s token=%s scopes=%s", caller.userId(), t.id, t.scopes);
        return new Created(t, secret);
    }

    public Page<TokenEntity> list(Caller caller, Optional<UUID> after, int size) {
        var q = after.isPresent()
                ? TokenEntity.<TokenEntity>find("userId = ?1 and id > ?2", Sort.by("id"), caller.userId(), after.get())
                : TokenEntity.<TokenEntity>find("userId = ?1", Sort.by("id"), caller.userId());
        return Page.of(q.range(0, size).list(), size, t -> t.id);
    }

    @Transactional
    public void revoke(Caller caller, UUID id) {
        Access.resource("token", id);
        TokenEntity t = TokenEntity.findById(id);
        if (t == null || !t.userId.equals(caller.userId())) {
            throw DomusException.notFound("token", id);
        }
        if (caller.kind() == Caller.Kind.TOKEN && !caller.has(Scope.ADMIN)
                && !caller.tokenId().equals(Optional.of(id))) {
            throw DomusException.insufficientScope("admin");
        }
        if (t.revokedAt == null) {
            t.revokedAt = UserService.now();
            LOG.infof("event=token.revoked user=%s token=%s", caller.userId(), t.id);
        }
    }

    /** The caller a token secret stands for, if it is known, unrevoked and unexpired. */
    @Transactional
    public Optional<Caller> authenticate(String secret) {
        if (!PersonalTokens.wellFormed(secret)) {
            return Optional.empty();
        }
        TokenEntity t = TokenEntity.find("secretHash", PersonalTokens.hash(secret)).firstResult();
        OffsetDateTime now = UserService.now();
        if (t == null || t.revokedAt != null || (t.expiresAt != null && !t.expiresAt.isAfter(now))) {
            return Optional.empty();
        }
        UserEntity u = UserEntity.findById(t.userId);
        if (u == null) {
            return Optional.empty();
        }
        // Recording every use would turn each read into a write; minute granularity is what users need.
        if (t.lastUsedAt == null || t.lastUsedAt.plus(LAST_USED_GRANULARITY).isBefore(now)) {
            t.lastUsedAt = now;
        }
        return Optional.of(new Caller(u.id, u.email, u.operator, false, Caller.Kind.TOKEN, Scope.parse(t.scopes),
                Optional.of(t.id)));
    }
}
