// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.api.events.EventCodec;
import dev.domus.api.events.HostCommand;
import dev.domus.api.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;

/** Writes messages to the outbox table in the caller's transaction; the relay publishes them after commit. */
@ApplicationScoped
public class OutboxService {
    @Inject
    EntityManager em;

    @Transactional(Transactional.TxType.MANDATORY)
    public void hostCommand(HostCommand command) {
        enqueue(Topics.HOST_COMMANDS, command.hostId().toString(), EventCodec.writeString(command));
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void enqueue(String topic, String key, String payload) {
        em.createNativeQuery("INSERT INTO outbox (topic, msg_key, payload, created_at) VALUES (?1, ?2, ?3, now())")
                .setParameter(1, topic).setParameter(2, key).setParameter(3, payload).executeUpdate();
    }
}
