// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/** Every knob of the host agent (prefix {@code domus.agent}). */
@ConfigMapping(prefix = "domus.agent")
public interface AgentConfig {
    /** This host's id in the control plane; host commands are filtered by it. */
    UUID hostId();

    /** Human-readable host name, reported at registration. */
    @WithDefault("host-1")
    String hostName();

    /** Region this host registers in; must be a region of the control plane's catalog (seeded: {@code local-1}). */
    @WithDefault("local-1")
    String region();

    /**
     * Capacity reported at registration: each value absent = detected ({@link dev.domus.agent.service.HostCapacity}:
     * CPUs and MemTotal from /proc, free space of the state dir, times the overcommit factors).
     */
    Capacity capacity();

    /** Where VPS records, disks and config drives live (survives agent restarts). */
    @WithDefault("/var/lib/domus/agent")
    Path stateDir();

    /** Run directory of the domain runners (the {@code xl} level: sockets, pid, lock, log files). */
    @WithDefault("/run/domus/xl")
    Path runDir();

    /** Guest image catalog: a directory with one sub-directory per image, or a single image directory. */
    Path guestDir();

    /** Linux bridge the VPS taps are attached to. */
    @WithDefault("domusbr0")
    String bridge();

    /** Create the bridge with {@link #gateway()} as its address when it does not exist. */
    @WithDefault("true")
    boolean manageBridge();

    /** Gateway address with prefix on the bridge, e.g. {@code 10.77.0.1/24}; VPS addresses come from this net. */
    @WithDefault("10.77.0.1/24")
    String gateway();

    /** First host number of the local pool (used when the control plane does not assign an address). */
    @WithDefault("10")
    int poolFirst();

    /** Last host number of the local pool. */
    @WithDefault("250")
    int poolLast();

    /** Kernel command-line console for guests. */
    @WithDefault("console=hvc1")
    String console();

    /** Crash-restart policy. */
    Restart restart();

    /** Warm start: VPSes restored from pre-booted template snapshots (see {@code service.WarmStart}). */
    WarmStart warmStart();

    /** Timeout of a graceful shutdown before the domain is destroyed. */
    @WithDefault("30s")
    Duration shutdownTimeout();

    /** Kafka: commands in, events and usage out. */
    Kafka kafka();

    /** Control plane (registration, desired state); absent = standalone (local API and Kafka only). */
    Optional<String> controlPlaneUrl();

    /** Reconcile period against the control plane's desired state. */
    @WithDefault("30s")
    Duration reconcileInterval();

    /** Keycloak client-credentials for the control plane's internal API. */
    Oidc oidc();

    interface Capacity {
        /** Override of the detected vCPUs (host CPUs x {@link #cpuOvercommit()}). */
        Optional<Integer> vcpus();

        /** Override of the detected memory ((MemTotal - {@link #reservedMemoryMb()}) x {@link #memoryOvercommit()}). */
        Optional<Long> memoryMb();

        /** Override of the detected disk (free space of the state dir x {@link #diskOvercommit()} + VPS disks). */
        Optional<Long> diskGb();

        /** vCPUs offered per host CPU (guests mostly idle; the emulator's threads park on WFI). */
        @WithDefault("4")
        double cpuOvercommit();

        /** Guest RAM offered per MiB of host RAM left after {@link #reservedMemoryMb()}. */
        @WithDefault("1")
        double memoryOvercommit();

        /** Memory kept for the host itself (agent, runner JVM overhead, page cache). */
        @WithDefault("2048")
        long reservedMemoryMb();

        /** Disk offered per GiB free (root disks are sparse copies, so above 1 is usually safe). */
        @WithDefault("1")
        double diskOvercommit();
    }

    interface Restart {
        /** Most restarts within {@link #window()} before the VPS goes to {@code error}. */
        @WithDefault("3")
        int maxRestarts();

        @WithDefault("10m")
        Duration window();

        /** Delay before the first restart; doubles per restart in the window. */
        @WithDefault("1s")
        Duration initialBackoff();

        @WithDefault("30s")
        Duration maxBackoff();
    }

    interface WarmStart {
        /** Off: every VPS cold-boots its kernel, as before templates existed. */
        @WithDefault("true")
        boolean enabled();

        /** Most template snapshots kept (each about the guest's RAM size on disk); least recently used go first. */
        @WithDefault("4")
        int maxTemplates();

        /** How long a template boot may take to reach its marker before the build is abandoned. */
        @WithDefault("10m")
        Duration buildTimeout();

        /**
         * Standby runners kept idle for warm starts (0 = off): runner JVMs started ahead and warmed up by a
         * throw-away clone of the template, that restore a VPS's snapshot without a JVM start or JIT warm-up. Each
         * costs its JVM's resident memory while idle (logged as {@code event=runner_pool_ready ... rss_mib}).
         */
        @WithDefault("1")
        int poolSize();

        /**
         * How long after a standby was taken its replacement starts: the replacement's warm-up is a whole guest boot
         * and would compete for CPU with the resume of the VPS that just took the standby.
         */
        @WithDefault("15s")
        Duration poolRefillDelay();
    }

    interface Kafka {
        /** Off: commands only arrive through the local API, events are logged. */
        @WithDefault("true")
        boolean enabled();

        @WithDefault("127.0.0.1:9092")
        String bootstrapServers();

        /** Heartbeat period (host.heartbeat on domus.host-events). */
        @WithDefault("10s")
        Duration heartbeatInterval();

        /** Usage period; usage ids are derived from VPS, metric and period, so re-sent usage dedupes. */
        @WithDefault("60s")
        Duration usageInterval();
    }

    interface Oidc {
        /** Token endpoint, e.g. {@code http://127.0.0.1:8180/realms/domus/protocol/openid-connect/token}. */
        Optional<String> tokenUrl();

        @WithDefault("domus-host-agent")
        String clientId();

        Optional<String> clientSecret();
    }
}
