// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsPhase;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.agent.infra.StateStore;
import dev.domus.api.events.HostCommand;
import dev.domus.api.events.HostCommandType;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostEventType;
import dev.domus.api.events.VpsSpec;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Applies host commands: each {@code command_id} once (the applied ids survive restarts), commands with an epoch
 * older than the VPS's newest applied epoch are rejected as stale (fencing: a deposed control-plane leader cannot
 * undo newer decisions), commands for other hosts are ignored. Outcomes are {@code action.*} host events; a command
 * that comes again (the control plane re-publishes those it has no answer for) gets its outcome again.
 */
@ApplicationScoped
public class CommandService {
    private static final Logger LOG = Logger.getLogger(CommandService.class);
    /** Applied command ids kept; older ones are far beyond any redelivery. */
    static final int REMEMBERED = 4096;

    /** What became of one command. */
    public enum Outcome { APPLIED, DUPLICATE, STALE_EPOCH, OTHER_HOST, FAILED }

    private final AgentConfig config;
    private final DomainSupervisor supervisor;
    private final HostNetwork net;
    private final StateStore store;
    private final EventSink events;
    private final Deque<UUID> order = new ArrayDeque<>();
    private final Set<UUID> applied = new HashSet<>();
    private final Deque<UUID> deleted = new ArrayDeque<>();
    private final CommandOutcomes outcomes = new CommandOutcomes(REMEMBERED);

    @Inject
    public CommandService(AgentConfig config, DomainSupervisor supervisor, HostNetwork net, StateStore store,
                          EventSink events) {
        this.config = config;
        this.supervisor = supervisor;
        this.net = net;
        this.store = store;
        this.events = events;
        StateStore.AgentState st = store.agentState();
        for (UUID id : st.appliedCommands()) {
            order.addLast(id);
            applied.add(id);
        }
        deleted.addAll(st.deletedVps());
    }

    public synchronized Outcome apply(HostCommand cmd) {
        if (!cmd.hostId().equals(config.hostId())) {
            return Outcome.OTHER_HOST;
        }
        if (applied.contains(cmd.commandId())) {
            replayOutcome(cmd);
            return Outcome.DUPLICATE;
        }
        Optional<DomainSupervisor.VpsStatus> cur = supervisor.get(cmd.vpsId());
        if (cur.isPresent() && cmd.epoch() < cur.get().record().epoch()) {
            LOG.warnf("event=command_stale command=%s vps=%s epoch=%d current_epoch=%d", cmd.commandId(),
                    cmd.vpsId(), cmd.epoch(), cur.get().record().epoch());
            remember(cmd.commandId());
            fail(cmd, "stale_epoch", "epoch " + cmd.epoch() + " < " + cur.get().record().epoch());
            return Outcome.STALE_EPOCH;
        }
        LOG.infof("event=command_apply command=%s type=%s vps=%s action=%s epoch=%d", cmd.commandId(),
                cmd.type().wire(), cmd.vpsId(), cmd.actionId(), cmd.epoch());
        events.publish(HostEvent.action(HostEventType.ACTION_PROGRESS, config.hostId(), cmd.vpsId(), cmd.actionId(),
                10, Optional.empty(), Optional.empty()));
        try {
            if (cmd.type() != HostCommandType.DELETE && deleted.contains(cmd.vpsId())) {
                throw new AgentException(AgentException.BAD_STATE, "VPS " + cmd.vpsId() + " was deleted on this host");
            }
            switch (cmd.type()) {
                case CREATE -> supervisor.create(recordFor(cmd));
                case DELETE -> {
                    supervisor.delete(cmd.vpsId());
                    if (!deleted.contains(cmd.vpsId())) {
                        deleted.addLast(cmd.vpsId());
                        while (deleted.size() > REMEMBERED) {
                            deleted.removeFirst();
                        }
                    }
                }
                case POWER_ON -> supervisor.start(cmd.vpsId(), cmd.epoch());
                case POWER_OFF -> supervisor.stop(cmd.vpsId(), cmd.epoch());
                case SHUTDOWN -> supervisor.shutdown(cmd.vpsId(), cmd.epoch());
                case REBOOT -> supervisor.reboot(cmd.vpsId(), cmd.epoch());
                case RESIZE -> {
                    VpsSpec spec = cmd.spec().orElseThrow();
                    supervisor.resize(cmd.vpsId(), spec.vcpus(), spec.memoryMb(), spec.diskGb(), spec.plan(),
                            cmd.epoch());
                }
                case REBUILD -> {
                    VpsSpec spec = cmd.spec().orElseThrow();
                    supervisor.rebuild(cmd.vpsId(), spec.image(), spec.sshKeys(), cmd.epoch());
                }
                default -> throw new AgentException("unsupported", cmd.type().wire() + " is not supported by this agent yet");
            }
        } catch (AgentException e) {
            remember(cmd.commandId());
            fail(cmd, e.code(), e.getMessage());
            return Outcome.FAILED;
        } catch (RuntimeException e) {
            LOG.errorf(e, "event=command_crashed command=%s", cmd.commandId());
            remember(cmd.commandId());
            fail(cmd, "internal", String.valueOf(e.getMessage()));
            return Outcome.FAILED;
        }
        remember(cmd.commandId());
        publishOutcome(cmd, HostEvent.action(HostEventType.ACTION_SUCCEEDED, config.hostId(), cmd.vpsId(),
                cmd.actionId(), 100, Optional.empty(), Optional.empty()));
        return Outcome.APPLIED;
    }

    /**
     * A command applied before came again: the control plane re-publishes commands whose outcome it never got, so
     * answer with the outcome sent then (same event id), or, after an agent restart, with success when the VPS's
     * state shows it ({@link CommandOutcomes#derived}).
     */
    private void replayOutcome(HostCommand cmd) {
        Optional<HostEvent> sent = outcomes.get(cmd.commandId());
        if (sent.isPresent()) {
            LOG.infof("event=command_duplicate command=%s vps=%s outcome=replayed", cmd.commandId(), cmd.vpsId());
            events.publish(sent.get());
            return;
        }
        Optional<VpsPhase> phase = supervisor.get(cmd.vpsId()).map(DomainSupervisor.VpsStatus::phase);
        if (CommandOutcomes.derived(cmd.type(), phase)) {
            LOG.infof("event=command_duplicate command=%s vps=%s outcome=derived type=%s", cmd.commandId(),
                    cmd.vpsId(), cmd.type().wire());
            publishOutcome(cmd, HostEvent.action(HostEventType.ACTION_SUCCEEDED, config.hostId(), cmd.vpsId(),
                    cmd.actionId(), 100, Optional.empty(), Optional.empty()));
            return;
        }
        LOG.infof("event=command_duplicate command=%s vps=%s outcome=unknown", cmd.commandId(), cmd.vpsId());
    }

    private void publishOutcome(HostCommand cmd, HostEvent outcome) {
        outcomes.put(cmd.commandId(), outcome);
        events.publish(outcome);
    }

    /**
     * The record for a create command: the control plane's pool address when the spec carries one (else the local
     * pool), owner and plan for usage events, MAC from the VPS id.
     */
    VpsRecord recordFor(HostCommand cmd) {
        VpsSpec spec = cmd.spec().orElseThrow();
        Optional<DomainSupervisor.VpsStatus> cur = supervisor.get(cmd.vpsId());
        if (cur.isPresent()) {
            return cur.get().record();
        }
        String ip = spec.ip().orElseGet(() -> net.allocate(supervisor.usedAddresses()));
        return new VpsRecord(VpsRecord.VERSION, cmd.vpsId(), hostname(spec.name()), spec.vcpus(), spec.memoryMb(),
                spec.diskGb(), spec.image(), spec.sshKeys(), spec.userData(), ip, net.gateway(),
                VpsRecord.macFor(cmd.vpsId()), spec.organizationId(), spec.projectId(), spec.plan(), true, cmd.epoch());
    }

    /** A DNS-safe host name from a VPS name. */
    static String hostname(String name) {
        String h = name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("^-+", "");
        return h.isEmpty() ? "vps" : h.substring(0, Math.min(63, h.length()));
    }

    private void fail(HostCommand cmd, String code, String message) {
        String m = message.length() > 1000 ? message.substring(0, 1000) : message;
        publishOutcome(cmd, HostEvent.action(HostEventType.ACTION_FAILED, config.hostId(), cmd.vpsId(),
                cmd.actionId(), 100, Optional.of(code.length() > 64 ? code.substring(0, 64) : code), Optional.of(m)));
    }

    private void remember(UUID id) {
        if (applied.add(id)) {
            order.addLast(id);
            while (order.size() > REMEMBERED) {
                applied.remove(order.removeFirst());
            }
            store.saveAgentState(new StateStore.AgentState(new ArrayList<>(order), new ArrayList<>(deleted)));
        }
    }
}
