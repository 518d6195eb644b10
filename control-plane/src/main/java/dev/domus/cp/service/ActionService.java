// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.HostCommand;
import dev.domus.api.events.Topics;
import dev.domus.cp.domain.ActionEntity;
import dev.domus.cp.domain.ActionType;
import dev.domus.cp.domain.VpsEntity;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Keeps actions from running forever (issue 8): stamps each action with its host command and deadline, re-publishes
 * commands the host has not acknowledged when its agent reconciles, and fails actions past their deadline through
 * {@link ActionCompletion} (so reservations are given back exactly as a reported failure would).
 */
@Startup
@ApplicationScoped
public class ActionService {
    private static final Logger LOG = Logger.getLogger(ActionService.class);

    @Inject
    ActionsConfig config;
    @Inject
    OutboxService outbox;
    @Inject
    ActionCompletion completion;
    @Inject
    EntityManager em;

    private ActionPolicy policy;

    /** Validates the configuration at start-up: a typo in a timeout key must not silently use the default. */
    @PostConstruct
    void init() {
        policy = ActionPolicy.of(config.timeout(), config.republishAfter());
    }

    /** Sends {@code cmd} for the new action {@code a} (outbox, same transaction) and remembers it with the deadline. */
    @Transactional(Transactional.TxType.MANDATORY)
    void send(ActionEntity a, HostCommand cmd) {
        a.commandId = cmd.commandId();
        a.command = EventCodec.writeString(cmd);
        a.deadlineAt = OffsetDateTime.ofInstant(policy.deadline(ActionType.fromWire(a.type), a.startedAt.toInstant()),
                ZoneOffset.UTC);
        outbox.hostCommand(cmd);
    }

    /** The host reported on the action: it has the command, so it is no longer re-published. */
    @Transactional(Transactional.TxType.MANDATORY)
    void acknowledged(ActionEntity a) {
        if (a.ackedAt == null) {
            a.ackedAt = UserService.now();
        }
    }

    /**
     * Called while the agent of {@code hostId} fetches its desired state (it is alive and reading): re-publishes
     * the commands of that host's running actions it has not acknowledged, unchanged, at most once per
     * {@code republish-after}. Returns how many.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    int republishFor(UUID hostId) {
        @SuppressWarnings("unchecked")
        List<ActionEntity> pending = em.createNativeQuery("SELECT a.* FROM actions a JOIN vps v ON v.current_action_id"
                + " = a.id WHERE v.host_id = ?1 AND a.status = 'running' AND a.acked_at IS NULL AND a.command IS NOT NULL"
                + " ORDER BY a.id FOR UPDATE OF a SKIP LOCKED", ActionEntity.class).setParameter(1, hostId)
                .getResultList();
        Instant now = Instant.now();
        int n = 0;
        for (ActionEntity a : pending) {
            if (policy.decide(timing(a), now) instanceof ActionPolicy.Verdict.Republish) {
                outbox.enqueue(Topics.HOST_COMMANDS, hostId.toString(), a.command);
                a.republishedAt = OffsetDateTime.ofInstant(now, ZoneOffset.UTC);
                a.republishCount++;
                n++;
                LOG.infof("event=action.republished vps=%s action=%s command=%s host=%s type=%s count=%d",
                        a.resourceId, a.id, a.commandId, hostId, a.type, a.republishCount);
            }
        }
        return n;
    }

    /** Ids of running actions whose deadline has passed, oldest deadline first. */
    @Transactional
    public List<UUID> expired(int limit) {
        @SuppressWarnings("unchecked")
        List<UUID> ids = em.createNativeQuery("SELECT id FROM actions WHERE status = 'running' AND deadline_at <= ?1"
                + " ORDER BY deadline_at LIMIT ?2", UUID.class)
                .setParameter(1, UserService.now()).setParameter(2, limit).getResultList();
        return ids;
    }

    /**
     * Fails one action past its deadline, in its own transaction under the server's row lock (the lock a host event
     * takes too): an outcome that arrived meanwhile wins, and a late outcome after this finds the action no longer
     * current and is ignored. Returns whether this call ended it.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public boolean expire(UUID actionId) {
        @SuppressWarnings("unchecked")
        List<UUID> resource = em.createNativeQuery("SELECT resource_id FROM actions WHERE id = ?1", UUID.class)
                .setParameter(1, actionId).getResultList();
        if (resource.isEmpty()) {
            return false;
        }
        // Server first, then action: the order HostEventService locks in.
        VpsEntity v = em.find(VpsEntity.class, resource.get(0), LockModeType.PESSIMISTIC_WRITE);
        ActionEntity a = em.find(ActionEntity.class, actionId, LockModeType.PESSIMISTIC_WRITE);
        if (!"running".equals(a.status)
                || !(policy.decide(timing(a), Instant.now()) instanceof ActionPolicy.Verdict.Expire x)) {
            return false;
        }
        if (v == null || !a.id.equals(v.currentActionId)) {
            // Not the server's current action (cannot happen through the API): close it without touching the server.
            a.status = "error";
            a.errorCode = x.code();
            a.errorMessage = x.message();
            a.finishedAt = UserService.now();
            return true;
        }
        LOG.warnf("event=action.expired vps=%s action=%s type=%s host=%s code=%s acked=%s republished=%d", v.id, a.id,
                a.type, v.hostId, x.code(), a.ackedAt != null, a.republishCount);
        completion.fail(a, v, x.code(), x.message());
        return true;
    }

    private ActionPolicy.Timing timing(ActionEntity a) {
        Instant started = a.startedAt.toInstant();
        Instant deadline = a.deadlineAt != null ? a.deadlineAt.toInstant()
                : policy.deadline(ActionType.fromWire(a.type), started);
        return new ActionPolicy.Timing(ActionType.fromWire(a.type), started, deadline,
                Optional.ofNullable(a.ackedAt).map(OffsetDateTime::toInstant),
                Optional.ofNullable(a.republishedAt).map(OffsetDateTime::toInstant));
    }
}
