// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.VpsPhase;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.api.internal.model.DesiredState;
import dev.domus.api.internal.model.DesiredVps;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Desired vs observed, with a fake host (a map of records and phases that logs every call): a missing VPS is
 * created once, power follows the desired state only at a current epoch, an extra VPS is destroyed only when the
 * control plane lists it as deleted, a restarted agent (new reconciler over adopted domains) creates nothing.
 */
class ReconcilerTest {

    /** Stands in for DomainSupervisor + HostNetwork: records what the reconciler asked for. */
    static final class FakeHost implements Reconciler.Host {
        final Map<UUID, DomainSupervisor.VpsStatus> vps = new LinkedHashMap<>();
        final List<String> calls = new ArrayList<>();
        int nextAddress = 10;
        Optional<UUID> failCreate = Optional.empty();

        void put(VpsRecord r, VpsPhase phase) {
            vps.put(r.vpsId(), new DomainSupervisor.VpsStatus(r, phase, "", phase == VpsPhase.RUNNING ? 4242 : 0, 0));
        }

        @Override
        public Optional<DomainSupervisor.VpsStatus> get(UUID vpsId) {
            return Optional.ofNullable(vps.get(vpsId));
        }

        @Override
        public List<DomainSupervisor.VpsStatus> list() {
            return new ArrayList<>(vps.values());
        }

        @Override
        public void create(VpsRecord rec) {
            calls.add("create " + rec.vpsId());
            if (failCreate.equals(Optional.of(rec.vpsId()))) {
                throw new AgentException(AgentException.IMAGE, "image missing");
            }
            put(rec, rec.powerOn() ? VpsPhase.RUNNING : VpsPhase.OFF);
        }

        @Override
        public void start(UUID vpsId, long epoch) {
            calls.add("start " + vpsId + " " + epoch);
            put(vps.get(vpsId).record().withPower(true, epoch), VpsPhase.RUNNING);
        }

        @Override
        public void stop(UUID vpsId, long epoch) {
            calls.add("stop " + vpsId + " " + epoch);
            put(vps.get(vpsId).record().withPower(false, epoch), VpsPhase.OFF);
        }

        @Override
        public void delete(UUID vpsId) {
            calls.add("delete " + vpsId);
            vps.remove(vpsId);
        }

        @Override
        public void annotate(UUID vpsId, Optional<UUID> org, Optional<UUID> project, Optional<String> plan) {
            calls.add("annotate " + vpsId + " " + plan.orElse(""));
            DomainSupervisor.VpsStatus s = vps.get(vpsId);
            put(s.record().withOwner(org, project, plan), s.phase());
        }

        @Override
        public String allocateAddress() {
            return "10.77.0." + nextAddress++ + "/24";
        }

        @Override
        public String gateway() {
            return "10.77.0.1";
        }
    }

    private static final UUID ORG = UUID.randomUUID();
    private static final UUID PROJECT = UUID.randomUUID();

    static DesiredVps desired(UUID id, boolean on, long epoch) {
        return new DesiredVps().vpsId(id).organizationId(ORG).projectId(PROJECT).name("web-" + id.toString()
                .substring(0, 4)).plan("s-1").vcpus(1).memoryMb(256).diskGb(1).image("debian-12")
                .sshKeys(List.of("ssh-ed25519 AAAA test")).userData("").power(on ? DesiredVps.PowerEnum.ON
                        : DesiredVps.PowerEnum.OFF).epoch(epoch);
    }

    static DesiredState state(List<DesiredVps> vps, List<UUID> deleted) {
        return new DesiredState().hostId(UUID.randomUUID()).generatedAt(OffsetDateTime.now()).vps(vps)
                .deleted(new ArrayList<>(deleted));
    }

    static VpsRecord record(UUID id, boolean on, long epoch) {
        return new VpsRecord(VpsRecord.VERSION, id, "web", 1, 256, 1, "debian-12", List.of(), "", "10.77.0.50/24",
                "10.77.0.1", VpsRecord.macFor(id), Optional.of(ORG), Optional.of(PROJECT), Optional.of("s-1"), on,
                epoch);
    }

    @Test
    void aMissingVpsIsCreatedOnceWithThePoolAddressOfTheControlPlane() {
        FakeHost host = new FakeHost();
        Reconciler r = new Reconciler(host);
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        DesiredState want = state(List.of(desired(a, true, 1).ip("10.9.0.7/24"), desired(b, false, 1)), List.of());

        Reconciler.Pass first = r.apply(want);
        Reconciler.Pass second = r.apply(want);

        assertThat(first.created()).isEqualTo(2);
        assertThat(second).isEqualTo(new Reconciler.Pass(0, 0, 0, 0, 0, 0));
        assertThat(host.calls).containsExactlyInAnyOrder("create " + a, "create " + b);
        assertThat(host.vps.get(a).record().ip()).isEqualTo("10.9.0.7/24");
        assertThat(host.vps.get(a).phase()).isEqualTo(VpsPhase.RUNNING);
        assertThat(host.vps.get(b).record().ip()).isEqualTo("10.77.0.10/24"); // none assigned: local pool
        assertThat(host.vps.get(b).record().powerOn()).isFalse();
        assertThat(host.vps.get(b).record().organizationId()).contains(ORG);
    }

    @Test
    void aFailedCreateIsCountedAndRetriedOnTheNextPass() {
        FakeHost host = new FakeHost();
        UUID a = UUID.randomUUID();
        host.failCreate = Optional.of(a);
        Reconciler r = new Reconciler(host);
        DesiredState want = state(List.of(desired(a, true, 1)), List.of());
        assertThat(r.apply(want).failed()).isEqualTo(1);
        host.failCreate = Optional.empty();
        assertThat(r.apply(want).created()).isEqualTo(1);
        assertThat(host.calls).containsExactly("create " + a, "create " + a);
        assertThat(r.apply(want).created()).isZero();
    }

    @Test
    void anExtraVpsIsDestroyedOnlyWhenTheControlPlaneSaysDeleted() {
        FakeHost host = new FakeHost();
        UUID extra = UUID.randomUUID();
        host.put(record(extra, true, 3), VpsPhase.RUNNING);
        Reconciler r = new Reconciler(host);

        // Absent from the desired state, not listed as deleted: kept (an empty or partial answer deletes nothing).
        Reconciler.Pass kept = r.apply(state(List.of(), List.of(UUID.randomUUID())));
        assertThat(kept.orphans()).isEqualTo(1);
        assertThat(kept.deleted()).isZero();
        assertThat(host.calls).isEmpty();
        assertThat(host.vps).containsKey(extra);

        Reconciler.Pass gone = r.apply(state(List.of(), List.of(extra)));
        assertThat(gone.deleted()).isEqualTo(1);
        assertThat(host.calls).containsExactly("delete " + extra);
        assertThat(host.vps).doesNotContainKey(extra);
        assertThat(r.apply(state(List.of(), List.of(extra))).deleted()).isZero();
    }

    @Test
    void powerFollowsOnlyADecisionAtLeastAsNewAsTheAppliedEpoch() {
        FakeHost host = new FakeHost();
        UUID id = UUID.randomUUID();
        host.put(record(id, true, 5), VpsPhase.RUNNING);
        Reconciler r = new Reconciler(host);

        // A stale desired state (epoch 4 < 5, e.g. from a deposed leader or cached) must not stop it.
        assertThat(r.apply(state(List.of(desired(id, false, 4)), List.of())).stopped()).isZero();
        assertThat(host.calls).isEmpty();
        assertThat(host.vps.get(id).phase()).isEqualTo(VpsPhase.RUNNING);

        // The current epoch does.
        assertThat(r.apply(state(List.of(desired(id, false, 5)), List.of())).stopped()).isEqualTo(1);
        assertThat(host.calls).containsExactly("stop " + id + " 5");
        // And a newer on starts it again, once.
        r.apply(state(List.of(desired(id, true, 6)), List.of()));
        r.apply(state(List.of(desired(id, true, 6)), List.of()));
        assertThat(host.calls).containsExactly("stop " + id + " 5", "start " + id + " 6");
        assertThat(host.vps.get(id).record().epoch()).isEqualTo(6);
    }

    @Test
    void aRestartedAgentAdoptsAndCreatesNoDuplicate() {
        FakeHost host = new FakeHost();
        UUID id = UUID.randomUUID();
        DesiredState want = state(List.of(desired(id, true, 1)), List.of());
        new Reconciler(host).apply(want);
        assertThat(host.calls).containsExactly("create " + id);

        // The agent restarts: the new process adopted the running domain (same record, running) before the first
        // pass; the new reconciler must neither create nor start it again.
        FakeHost restarted = new FakeHost();
        restarted.vps.putAll(host.vps);
        Reconciler.Pass p = new Reconciler(restarted).apply(want);
        assertThat(p).isEqualTo(new Reconciler.Pass(0, 0, 0, 0, 0, 0));
        assertThat(restarted.calls).isEmpty();
    }

    @Test
    void aPlanChangeReachesTheRecordForUsageEvents() {
        FakeHost host = new FakeHost();
        UUID id = UUID.randomUUID();
        host.put(record(id, false, 2), VpsPhase.OFF);
        Reconciler r = new Reconciler(host);
        r.apply(state(List.of(desired(id, false, 2).plan("s-2")), List.of()));
        assertThat(host.calls).containsExactly("annotate " + id + " s-2");
        assertThat(host.vps.get(id).record().plan()).contains("s-2");
        r.apply(state(List.of(desired(id, false, 2).plan("s-2")), List.of()));
        assertThat(host.calls).hasSize(1);
    }
}
