// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.AgentException;
import dev.domus.agent.domain.RestartPolicy;
import dev.domus.agent.domain.VpsPhase;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.agent.infra.StateStore;
import dev.domus.api.events.HostEvent;
import dev.domus.api.events.HostEventType;
import dev.domus.xen.domain.DomainClient;
import dev.domus.xen.domain.DomainConfig;
import dev.domus.xen.domain.DomainEvent;
import dev.domus.xen.domain.DomainException;
import dev.domus.xen.domain.DomainInfo;
import dev.domus.xen.domain.DomainLauncher;
import dev.domus.xen.domain.RunDir;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs each VPS of this host as one xen-core domain runner process and keeps it in the desired power state.
 *
 * <p>Runners are detached processes ({@link DomainLauncher}); the agent holds only a control-socket connection to
 * each, subscribed to its events. When the agent dies (kill -9 included) the domains keep running; on start the
 * agent loads its VPS records and, for every domain whose name lock is held, connects to the control socket
 * instead of launching: the name lock makes a duplicate runner impossible ({@code exists}).
 *
 * <p>Crashes: domains run with {@code on_crash = "preserve"}, so a guest panic is reported to the agent, which
 * destroys the crashed machine and restarts it per {@link RestartPolicy}; a runner that vanishes without an exit
 * event (kill -9, OOM) is handled the same way. Every crash, restart and give-up is a {@code vps.state} host event
 * whose {@code error_code}/{@code error_message} say what happened.
 */
@ApplicationScoped
public class DomainSupervisor {
    private static final Logger LOG = Logger.getLogger(DomainSupervisor.class);
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);
    /** Schema version of the host events this agent writes. */
    static final int HOST_EVENT_VERSION = 1;

    /** One VPS under supervision. All mutation under {@code this} (the slot's monitor). */
    static final class Slot {
        volatile VpsRecord rec;
        volatile VpsPhase phase = VpsPhase.OFF;
        volatile String reason = "";
        volatile long pid;
        volatile DomainClient client;
        /** Bumped on every launch/adopt/stop so a stale watcher's disconnect is ignored. */
        int generation;
        /** The agent itself is stopping the domain: an exit is not a crash. */
        boolean stopping;
        final List<Instant> restarts = new ArrayList<>();
        int totalRestarts;

        Slot(VpsRecord rec) {
            this.rec = rec;
        }
    }

    /** Public view of one VPS. */
    public record VpsStatus(VpsRecord record, VpsPhase phase, String reason, long runnerPid, int restarts) { }

    private final AgentConfig config;
    private final StateStore store;
    private final DiskBuilder disks;
    private final HostNetwork net;
    private final EventSink events;
    private final RunDir runDir;
    private final DomainLauncher launcher;
    private final RestartPolicy policy;
    private final WarmStart warm;
    private final Map<UUID, Slot> slots = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("supervisor-timer").factory());

    @Inject
    public DomainSupervisor(AgentConfig config, StateStore store, DiskBuilder disks, HostNetwork net,
                            EventSink events) {
        this.config = config;
        this.store = store;
        this.disks = disks;
        this.net = net;
        this.events = events;
        this.runDir = RunDir.at(config.runDir());
        this.launcher = new DomainLauncher(runDir);
        this.warm = new WarmStart(config, disks, net, runDir, launcher);
        AgentConfig.Restart r = config.restart();
        this.policy = new RestartPolicy(r.maxRestarts(), r.window(), r.initialBackoff(), r.maxBackoff());
    }

    public RunDir runDir() {
        return runDir;
    }

    // ---------------------------------------------------------------- start-up: adopt what runs

    /**
     * Loads every VPS record and adopts running domains; VPSes that should run but have no runner are started
     * (a restart event says so). Called once at agent start.
     */
    public void adoptAll() {
        runDir.create();
        net.ensureBridge();
        for (VpsRecord r : store.all()) {
            Slot s = slots.computeIfAbsent(r.vpsId(), id -> new Slot(r));
            synchronized (s) {
                if (runDir.isHeld(r.domainName()) && adopt(s)) {
                    continue;
                }
                if (r.powerOn()) {
                    LOG.infof("event=vps_not_running_at_start vps=%s action=start", r.vpsId());
                    publishState(s, VpsPhase.OFF, "domain_crashed", "runner not running when the agent started");
                    scheduleRestart(s, "runner not running when the agent started");
                } else {
                    s.phase = VpsPhase.OFF;
                }
            }
        }
        for (String name : runDir.domainNames()) {
            if (name.startsWith("vps-") && runDir.isHeld(name) && slots.values().stream()
                    .noneMatch(s -> s.rec.domainName().equals(name))) {
                LOG.warnf("event=orphan_domain domain=%s note=no_record_left_running", name);
            }
        }
        // An agent restart ended the pool's idle runners: warm one up again for what this host runs.
        warm.prime(store.all());
    }

    /** Idle standby runners the warm-start pool holds right now. */
    public int idleStandbys() {
        return warm.idleStandbys();
    }

    /** Host memory the warm-start pool's idle standby runners need (kept out of the capacity offered). */
    public long standbyReserveMb() {
        return warm.standbyReserveMb();
    }

    private boolean adopt(Slot s) {
        try {
            DomainClient c = DomainClient.connect(runDir, s.rec.domainName());
            DomainInfo info = c.info();
            s.pid = info.pid();
            s.client = c;
            s.generation++;
            s.stopping = false;
            s.phase = VpsPhase.RUNNING;
            s.totalRestarts = info.restarts();
            watch(s, c, s.generation);
            LOG.infof("event=domain_adopted vps=%s domain=%s pid=%d state=%s", s.rec.vpsId(), s.rec.domainName(),
                    info.pid(), info.state().wireName());
            return true;
        } catch (DomainException e) {
            LOG.warnf("event=adopt_failed vps=%s error=%s", s.rec.vpsId(), e.getMessage());
            return false;
        }
    }

    // ---------------------------------------------------------------- use cases

    /**
     * Creates the VPS (disks, config drive) and starts it when {@code rec.powerOn()}. Idempotent: an existing VPS
     * with the same id is left as it is (its record is kept; the running domain is never duplicated).
     */
    public VpsStatus create(VpsRecord rec) {
        Slot s = slots.computeIfAbsent(rec.vpsId(), id -> new Slot(rec));
        synchronized (s) {
            if (s.phase == VpsPhase.DELETED) {
                throw new AgentException(AgentException.BAD_STATE, "VPS " + rec.vpsId() + " was deleted");
            }
            if (store.load(rec.vpsId()).isEmpty()) {
                s.rec = rec;
                s.phase = VpsPhase.PROVISIONING;
                store.save(rec);
            }
            if (s.rec.powerOn() && s.phase != VpsPhase.RUNNING) {
                launch(s);
            }
            return status(s);
        }
    }

    public VpsStatus start(UUID vpsId, long epoch) {
        Slot s = slot(vpsId);
        synchronized (s) {
            setPower(s, true, epoch);
            if (s.phase != VpsPhase.RUNNING) {
                s.restarts.clear(); // an operator start ends an error state and its crash history
                launch(s);
            }
            return status(s);
        }
    }

    /** Hard power-off: destroy at once. */
    public VpsStatus stop(UUID vpsId, long epoch) {
        Slot s = slot(vpsId);
        synchronized (s) {
            setPower(s, false, epoch);
            halt(s, Optional.empty());
            return status(s);
        }
    }

    /** Graceful power-off; the runner destroys the domain after the shutdown timeout. */
    public VpsStatus shutdown(UUID vpsId, long epoch) {
        Slot s = slot(vpsId);
        synchronized (s) {
            setPower(s, false, epoch);
            halt(s, Optional.of(config.shutdownTimeout()));
            return status(s);
        }
    }

    /** Guest reboot through the control channel; the runner rebuilds the machine ({@code on_reboot = restart}). */
    public VpsStatus reboot(UUID vpsId, long epoch) {
        Slot s = slot(vpsId);
        synchronized (s) {
            setPower(s, true, epoch);
            if (s.phase == VpsPhase.RUNNING && s.client != null) {
                try {
                    s.client.reboot();
                    return status(s);
                } catch (DomainException e) {
                    LOG.warnf("event=reboot_failed vps=%s error=%s fallback=restart", vpsId, e.getMessage());
                }
            }
            halt(s, Optional.empty());
            launch(s);
            return status(s);
        }
    }

    /**
     * Plan change of a stopped VPS: the root disk grows to {@code diskGb} (never shrinks), vCPUs and memory apply at
     * the next start ({@code domain.cfg} is rewritten on every start). A running VPS is refused: the control plane
     * resizes only servers that are off, and stopping one behind its back would surprise its owner.
     */
    public VpsStatus resize(UUID vpsId, int vcpus, int memoryMb, int diskGb, Optional<String> plan, long epoch) {
        Slot s = slot(vpsId);
        synchronized (s) {
            if (s.phase == VpsPhase.RUNNING || s.phase == VpsPhase.RESTARTING || s.phase == VpsPhase.PROVISIONING) {
                throw new AgentException(AgentException.BAD_STATE, "VPS " + vpsId + " is "
                        + s.phase.name().toLowerCase(java.util.Locale.ROOT) + ": stop it before a resize");
            }
            if (diskGb < s.rec.diskGb()) {
                throw new AgentException(AgentException.BAD_STATE, "disk_gb " + diskGb + " < " + s.rec.diskGb()
                        + ": a root disk only grows");
            }
            VpsRecord next = s.rec.withShape(vcpus, memoryMb, diskGb, plan, epoch); // validates the new shape
            disks.growRootDisk(s.rec, diskGb);
            s.rec = next;
            store.save(next);
            LOG.infof("event=vps_resized vps=%s vcpus=%d memory_mb=%d disk_gb=%d plan=%s", vpsId, vcpus, memoryMb,
                    diskGb, plan.orElse(""));
            return status(s);
        }
    }

    /**
     * New root disk from {@code image}, keeping id, address, MAC, host key and SSH keys ({@code keys} when given);
     * the domain is stopped, the new disk built next to the old one and renamed over it only when complete, then
     * the VPS starts. If building fails the old disk and image stay and the VPS is started again as it was.
     */
    public VpsStatus rebuild(UUID vpsId, String image, List<String> keys, long epoch) {
        Slot s = slot(vpsId);
        synchronized (s) {
            halt(s, Optional.empty());
            try {
                disks.replaceRootDisk(s.rec, image);
            } catch (AgentException e) {
                if (s.rec.powerOn()) {
                    launch(s);
                }
                throw e;
            }
            s.rec = s.rec.withImage(image, keys.isEmpty() ? s.rec.sshKeys() : keys, epoch);
            store.save(s.rec);
            s.restarts.clear();
            LOG.infof("event=vps_rebuilt vps=%s image=%s", vpsId, image);
            launch(s);
            return status(s);
        }
    }

    /** Owner and plan for usage events (from the control plane's desired state or a resize). */
    public void annotate(UUID vpsId, Optional<UUID> org, Optional<UUID> project, Optional<String> plan) {
        Slot s = slot(vpsId);
        synchronized (s) {
            VpsRecord next = s.rec.withOwner(org, project, plan);
            if (!next.equals(s.rec)) {
                s.rec = next;
                store.save(next);
                LOG.infof("event=vps_annotated vps=%s org=%s project=%s plan=%s", vpsId, next.organizationId()
                        .map(UUID::toString).orElse(""), next.projectId().map(UUID::toString).orElse(""),
                        next.plan().orElse(""));
            }
        }
    }

    /** Destroys the domain and frees its disks, config drive and tap. */
    public void delete(UUID vpsId) {
        Slot s = slots.get(vpsId);
        if (s == null) {
            store.delete(vpsId);
            return;
        }
        synchronized (s) {
            halt(s, Optional.empty());
            net.removeTap(s.rec.tapName());
            store.delete(vpsId);
            s.phase = VpsPhase.DELETED;
            publishState(s, VpsPhase.DELETED, null, null);
            slots.remove(vpsId);
        }
    }

    public List<VpsStatus> list() {
        List<VpsStatus> out = new ArrayList<>();
        for (Slot s : slots.values()) {
            out.add(status(s));
        }
        out.sort(java.util.Comparator.comparing(v -> v.record().vpsId()));
        return out;
    }

    public Optional<VpsStatus> get(UUID vpsId) {
        Slot s = slots.get(vpsId);
        return s == null ? Optional.empty() : Optional.of(status(s));
    }

    /** Addresses in use by VPSes of this host. */
    public Set<String> usedAddresses() {
        Set<String> used = new HashSet<>();
        for (Slot s : slots.values()) {
            used.add(s.rec.address());
        }
        return used;
    }

    /** Live domain info (CPU time, memory) for heartbeats and usage; empty when not running. */
    public Optional<DomainInfo> info(UUID vpsId) {
        Slot s = slots.get(vpsId);
        DomainClient c = s == null ? null : s.client;
        if (c == null || !c.isConnected()) {
            return Optional.empty();
        }
        try {
            return Optional.of(c.info());
        } catch (DomainException e) {
            return Optional.empty();
        }
    }

    // ---------------------------------------------------------------- internals (caller holds the slot monitor)

    private Slot slot(UUID vpsId) {
        Slot s = slots.get(vpsId);
        if (s == null) {
            throw new AgentException(AgentException.NOT_FOUND, "VPS " + vpsId + " is not on this host");
        }
        return s;
    }

    private void setPower(Slot s, boolean on, long epoch) {
        if (s.rec.powerOn() != on || epoch > s.rec.epoch()) {
            s.rec = s.rec.withPower(on, epoch);
            store.save(s.rec);
        }
    }

    private void launch(Slot s) {
        VpsRecord r = s.rec;
        if (runDir.isHeld(r.domainName())) {
            if (adopt(s)) {
                return; // already running (e.g. a re-sent create): never a second runner
            }
        }
        s.phase = VpsPhase.PROVISIONING;
        long t0 = System.nanoTime();
        try {
            net.ensureBridge();
            Path root = disks.ensureRootDisk(r);
            long tDisk = System.nanoTime();
            Path cfgDrive = disks.writeConfigDrive(r);
            Path cfg = writeDomainConfig(r, root, cfgDrive);
            net.removeTap(r.tapName());
            long tLaunch = System.nanoTime();
            // Restored from a template snapshot when there is one (warm), else booted (cold): see WarmStart.
            WarmStart.Started st = warm.start(r, DomainConfig.load(cfg), READY_TIMEOUT);
            DomainLauncher.Launched l = st.launched();
            long tReady = System.nanoTime();
            // Console first: its replay buffer holds the whole boot, so nothing is missed by attaching now.
            BootTimeline.follow(runDir, r.domainName(), r.vpsId(), t0, st.mode());
            DomainClient c = DomainClient.connect(runDir, r.domainName());
            s.pid = l.pid();
            s.client = c;
            s.generation++;
            s.stopping = false;
            s.phase = VpsPhase.RUNNING;
            s.reason = "";
            watch(s, c, s.generation);
            LOG.infof("event=domain_started vps=%s domain=%s pid=%d mode=%s ms=%d root_disk_ms=%d config_ms=%d"
                    + " runner_ms=%d restore_ms=%d resume_ms=%d pooled=%s", r.vpsId(), r.domainName(), l.pid(),
                    st.mode(), (System.nanoTime() - t0) / 1_000_000, (tDisk - t0) / 1_000_000,
                    (tLaunch - tDisk) / 1_000_000, (tReady - tLaunch) / 1_000_000, st.restoreMs(), st.resumeMs(),
                    st.pooled());
            // The VPS's events say how it started (the control plane lists them as state_changed).
            publishState(s, VpsPhase.RUNNING, "domain_started", "boot=" + st.mode() + " runner_ms="
                    + (tReady - tLaunch) / 1_000_000 + (st.restoreMs() > 0 ? " restore_ms=" + st.restoreMs() : ""));
        } catch (DomainException e) {
            if (DomainException.EXISTS.equals(e.code()) && adopt(s)) {
                return;
            }
            s.phase = VpsPhase.ERROR;
            s.reason = e.getMessage();
            throw new AgentException(AgentException.LAUNCH, e.getMessage(), e);
        } catch (AgentException e) {
            s.phase = VpsPhase.ERROR;
            s.reason = e.getMessage();
            throw e;
        }
    }

    /** Stops the domain (graceful with a timeout, or destroy) and waits until its runner has exited. */
    private void halt(Slot s, Optional<Duration> graceful) {
        s.stopping = true;
        s.generation++;
        DomainClient c = s.client;
        String name = s.rec.domainName();
        long pid = s.pid != 0 ? s.pid : runDir.recordedPid(name).orElse(0L);
        if (c == null && runDir.isHeld(name)) {
            try {
                c = DomainClient.connect(runDir, name);
            } catch (DomainException e) {
                c = null;
            }
        }
        if (c != null) {
            try {
                if (graceful.isPresent()) {
                    c.shutdown(graceful);
                } else {
                    c.destroy();
                }
            } catch (DomainException e) {
                LOG.debugf("event=halt_call_failed vps=%s error=%s", s.rec.vpsId(), e.getMessage());
            }
        }
        Duration wait = graceful.map(d -> d.plus(EXIT_TIMEOUT)).orElse(EXIT_TIMEOUT);
        long deadline = System.nanoTime() + wait.toNanos();
        while (runDir.isHeld(name) && System.nanoTime() < deadline) {
            sleep(50);
        }
        if (runDir.isHeld(name)) {
            runDir.recordedPid(name).ifPresent(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly));
            while (runDir.isHeld(name) && System.nanoTime() < deadline + EXIT_TIMEOUT.toNanos()) {
                sleep(50);
            }
        }
        awaitProcessExit(pid);
        if (c != null) {
            c.close();
        }
        s.client = null;
        s.pid = 0;
        runDir.cleanIfStale(name);
        if (s.phase != VpsPhase.ERROR || !s.rec.powerOn()) {
            s.phase = VpsPhase.OFF;
        }
        publishState(s, VpsPhase.OFF, null, null);
    }

    private Path writeDomainConfig(VpsRecord r, Path root, Path cfgDrive) {
        Path kernel = disks.imageDir(r.image()).resolve("Image");
        // Hostname, keys, address and user data travel on the config drive (vdb), not on the command line.
        String cmdline = config.console() + " root=/dev/vda rw";
        String text = "# generated by the Domus host agent for VPS " + r.vpsId() + "; rewritten on every start\n"
                + "name = \"" + r.domainName() + "\"\n"
                + "memory = " + r.memoryMb() + "\n"
                + "vcpus = " + r.vcpus() + "\n"
                + "kernel = \"" + kernel + "\"\n"
                + "extra = \"" + cmdline + "\"\n"
                + "disk = [ '" + root + ",rw,vda', '" + cfgDrive + ",ro,vdb' ]\n"
                + "vif = [ 'mac=" + r.mac() + ",bridge=" + net.bridge() + ",vifname=" + r.tapName() + "' ]\n"
                + "on_poweroff = \"destroy\"\n"
                + "on_reboot = \"restart\"\n"
                // preserve: the agent, not the runner, decides about crash restarts (policy, events).
                + "on_crash = \"preserve\"\n";
        Path cfg = store.vpsDir(r.vpsId()).resolve("domain.cfg");
        try {
            Files.writeString(cfg, text);
        } catch (IOException e) {
            throw new AgentException(AgentException.DISK, "cannot write " + cfg + ": " + e, e);
        }
        return cfg;
    }

    /** Follows one runner's events until it disconnects. */
    private void watch(Slot s, DomainClient c, int generation) {
        Thread.ofVirtual().name("watch-" + s.rec.vpsId()).start(() -> {
            try {
                c.subscribe();
            } catch (DomainException e) {
                onExit(s, generation, "runner_lost", "control connection failed: " + e.getMessage());
                return;
            }
            String exit = null;
            String exitCode = "runner_lost";
            try {
                while (c.isConnected()) {
                    Optional<DomainEvent> ev = c.nextEvent(Duration.ofSeconds(5));
                    if (ev.isEmpty()) {
                        continue;
                    }
                    DomainEvent event = ev.get();
                    switch (event) {
                        case DomainEvent.Crash cr -> {
                            onCrash(s, generation, cr.reason());
                            return;
                        }
                        case DomainEvent.Shutdown sd -> {
                            exit = sd.reason();
                            exitCode = "poweroff".equals(sd.reason()) ? "guest_poweroff" : "destroyed";
                        }
                        case DomainEvent.Reboot rb -> LOG.infof("event=guest_reboot vps=%s", s.rec.vpsId());
                        case DomainEvent.StateChanged st -> LOG.debugf("event=domain_state vps=%s state=%s",
                                s.rec.vpsId(), st.state().wireName());
                        case DomainEvent.Migration mg -> LOG.infof("event=domain_migration vps=%s phase=%s",
                                s.rec.vpsId(), mg.phase());
                        // Newer runners may add event kinds; they carry nothing the supervisor acts on.
                        default -> LOG.debugf("event=domain_event vps=%s kind=%s", s.rec.vpsId(),
                                event.getClass().getSimpleName());
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
            onExit(s, generation, exitCode, exit == null ? "domain runner exited without an exit event" : exit);
        });
    }

    private void onCrash(Slot s, int generation, String reason) {
        synchronized (s) {
            if (generation != s.generation || s.stopping) {
                return;
            }
            LOG.warnf("event=guest_crashed vps=%s reason=\"%s\"", s.rec.vpsId(), reason);
            s.generation++;
            DomainClient c = s.client;
            long pid = s.pid;
            if (c != null) {
                try {
                    c.destroy();
                } catch (DomainException e) {
                    // already gone
                }
            }
            awaitRunnerExit(s.rec.domainName(), pid);
            closeClient(s);
            publishState(s, VpsPhase.OFF, "domain_crashed", "guest crashed: " + reason);
            scheduleRestart(s, "guest crashed: " + reason);
        }
    }

    private void onExit(Slot s, int generation, String code, String what) {
        synchronized (s) {
            if (generation != s.generation || s.stopping) {
                return;
            }
            s.generation++;
            awaitRunnerExit(s.rec.domainName(), s.pid);
            closeClient(s);
            if ("guest_poweroff".equals(code)) {
                // The customer powered off from inside: that is the new desired state.
                s.rec = s.rec.withPower(false, s.rec.epoch());
                store.save(s.rec);
                s.phase = VpsPhase.OFF;
                LOG.infof("event=guest_poweroff vps=%s", s.rec.vpsId());
                publishState(s, VpsPhase.OFF, null, null);
                return;
            }
            LOG.warnf("event=runner_died vps=%s code=%s detail=\"%s\"", s.rec.vpsId(), code, what);
            publishState(s, VpsPhase.OFF, "domain_crashed", "domain runner died: " + what);
            scheduleRestart(s, "domain runner died: " + what);
        }
    }

    /** Applies the restart policy (caller holds the monitor). */
    private void scheduleRestart(Slot s, String why) {
        RestartPolicy.Decision d = policy.decide(s.restarts, Instant.now());
        switch (d) {
            case RestartPolicy.Decision.GiveUp g -> {
                s.phase = VpsPhase.ERROR;
                s.reason = why + "; " + g.reason();
                LOG.errorf("event=restart_gave_up vps=%s reason=\"%s\"", s.rec.vpsId(), s.reason);
                publishState(s, VpsPhase.ERROR, "crash_loop", s.reason);
            }
            case RestartPolicy.Decision.Restart r -> {
                s.phase = VpsPhase.RESTARTING;
                s.reason = why;
                s.restarts.add(Instant.now());
                int gen = s.generation;
                LOG.infof("event=restart_scheduled vps=%s attempt=%d delay_ms=%d", s.rec.vpsId(), r.attempt(),
                        r.delay().toMillis());
                timer.schedule(() -> restartNow(s, gen, r.attempt(), why), r.delay().toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    private void restartNow(Slot s, int generation, int attempt, String why) {
        synchronized (s) {
            if (generation != s.generation || s.phase != VpsPhase.RESTARTING || !s.rec.powerOn()) {
                return;
            }
            try {
                launch(s);
                s.totalRestarts++;
                publishState(s, VpsPhase.RUNNING, "domain_restarted", "restart " + attempt + " after " + why);
            } catch (AgentException e) {
                LOG.errorf("event=restart_failed vps=%s error=\"%s\"", s.rec.vpsId(), e.getMessage());
                scheduleRestart(s, "restart failed: " + e.getMessage());
            }
        }
    }

    private void awaitRunnerExit(String name, long pid) {
        long deadline = System.nanoTime() + EXIT_TIMEOUT.toNanos();
        while (runDir.isHeld(name) && System.nanoTime() < deadline) {
            sleep(50);
        }
        awaitProcessExit(pid);
        runDir.cleanIfStale(name);
    }

    /**
     * The runner releases its name lock a moment before its JVM is gone (and with it the tap): callers that report
     * "stopped" or "deleted" wait for the process itself, killing it if it hangs in shutdown.
     */
    private static void awaitProcessExit(long pid) {
        if (pid <= 0) {
            return;
        }
        Optional<ProcessHandle> ph = ProcessHandle.of(pid);
        if (ph.isEmpty()) {
            return;
        }
        try {
            ph.get().onExit().get(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            ph.get().destroyForcibly();
        } catch (java.util.concurrent.ExecutionException e) {
            // cannot happen for onExit
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeClient(Slot s) {
        DomainClient c = s.client;
        if (c != null) {
            c.close();
        }
        s.client = null;
        s.pid = 0;
    }

    private VpsStatus status(Slot s) {
        return new VpsStatus(s.rec, s.phase, s.reason, s.pid, s.totalRestarts);
    }

    private void publishState(Slot s, VpsPhase phase, String errorCode, String message) {
        HostEvent e = new HostEvent(HOST_EVENT_VERSION, UUID.randomUUID(), HostEventType.VPS_STATE, config.hostId(),
                Instant.now(), Optional.of(s.rec.vpsId()), Optional.empty(), OptionalInt.empty(),
                Optional.of(phase.wire()), Optional.ofNullable(errorCode),
                Optional.ofNullable(message).map(m -> m.length() > 1000 ? m.substring(0, 1000) : m),
                OptionalInt.empty());
        events.publish(e);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The agent stopping leaves every domain running: they are adopted by the next agent. */
    @PreDestroy
    void close() {
        timer.shutdownNow();
        warm.close();
        for (Slot s : slots.values()) {
            synchronized (s) {
                s.generation++;
                closeClient(s);
            }
        }
    }
}
