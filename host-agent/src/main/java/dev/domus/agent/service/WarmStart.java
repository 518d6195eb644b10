// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.agent.AgentConfig;
import dev.domus.agent.domain.VpsRecord;
import dev.domus.xen.domain.ConsoleClient;
import dev.domus.xen.domain.DomainClient;
import dev.domus.xen.domain.DomainConfig;
import dev.domus.xen.domain.DomainException;
import dev.domus.xen.domain.DomainLauncher;
import dev.domus.xen.domain.DomainRunner;
import dev.domus.xen.domain.RunDir;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Starts VPSes from pre-booted template snapshots ("warm start") instead of booting their kernel.
 *
 * <p>A template is a domain of the VPS's shape (RAM, vCPUs, root disk size, a config drive, one NIC) booted from
 * the image's kernel and initramfs with {@code domus.template=1}: the guest init stops before it reads any disk
 * and prints {@code DOMUS-TEMPLATE-READY}; the agent then saves it ({@code xl save}) into the {@link TemplateCache}.
 * Its disks are sparse placeholders of the real sizes, since the kernel reads their capacity when it probes them.
 *
 * <p>A warm start restores the snapshot under the VPS's own domain config (its disks, tap, MAC, and on reboot its
 * cold boot) and sends {@code resume <64 hex> <unix seconds>} on the control channel: 32 fresh bytes from
 * {@link SecureRandom} that the guest credits to its CRNG and reseeds from, since every clone leaves the snapshot
 * with the same RNG state, and the host clock. The guest then drops its block caches, mounts the VPS's root disk
 * and continues the normal boot there. Without a template (first use of a shape, image without initramfs, feature
 * off) the VPS cold-boots as before and the template is built in the background; a template that fails to
 * restore is deleted and the VPS cold-boots.
 */
final class WarmStart implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WarmStart.class);
    static final String TEMPLATE_READY = "DOMUS-TEMPLATE-READY";
    static final String TEMPLATE_ERROR = "DOMUS-TEMPLATE-ERR";
    /** Domain names of template builds; never "vps-", so the supervisor never adopts them. */
    static final String TEMPLATE_PREFIX = "tpl-";
    private static final String TEMPLATE_MAC = "52:54:00:ff:ff:fe";
    /** The size DiskBuilder makes config drives. */
    private static final long CONFIG_DRIVE_BYTES = 4L << 20;
    private static final Duration SAVE_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

    /**
     * How a VPS was started; {@code restoreMs}/{@code resumeMs} are 0 for a cold boot; {@code pooled}: restored by a
     * standby runner of the {@link RunnerPool} (no JVM start).
     */
    record Started(DomainLauncher.Launched launched, String mode, long restoreMs, long resumeMs, boolean pooled) { }

    /** A standby runner as the pool sees it. */
    record PooledStandby(DomainLauncher.Standby standby) implements RunnerPool.Runner {
        @Override
        public long pid() {
            return standby.pid();
        }

        @Override
        public boolean isAlive() {
            return standby.isAlive();
        }

        @Override
        public void close() {
            standby.close();
        }

        @Override
        public String describe() {
            return standby.info();
        }
    }

    private static final String POOL_MAC = "52:54:00:ff:ff:fd";
    private static final Duration POOL_WARMUP_TIMEOUT = Duration.ofMinutes(2);
    static final long STANDBY_RESERVE_MB = 128;

    private final AgentConfig config;
    private final DiskBuilder disks;
    private final HostNetwork net;
    private final RunDir runDir;
    private final DomainLauncher launcher;
    private final boolean enabled;
    private final Duration buildTimeout;
    private final Path workRoot;
    private final TemplateCache cache;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, String> imageSums = new ConcurrentHashMap<>();
    private volatile String runnerSum;
    private volatile String buildingDomain;
    private final RunnerPool<TemplateKey, PooledStandby> pool;
    private final Path poolWork;
    private final java.util.concurrent.atomic.AtomicInteger poolSeq = new java.util.concurrent.atomic.AtomicInteger();

    WarmStart(AgentConfig config, DiskBuilder disks, HostNetwork net, RunDir runDir, DomainLauncher launcher) {
        this.config = config;
        this.disks = disks;
        this.net = net;
        this.runDir = runDir;
        this.launcher = launcher;
        AgentConfig.WarmStart w = config.warmStart();
        this.enabled = w.enabled();
        this.buildTimeout = w.buildTimeout();
        this.workRoot = config.stateDir().resolve("template-work");
        this.cache = enabled ? new TemplateCache(config.stateDir().resolve("templates"), w.maxTemplates()) : null;
        this.poolWork = config.stateDir().resolve("pool-work");
        this.pool = new RunnerPool<>(enabled ? w.poolSize() : 0, w.poolRefillDelay(), this::startStandby);
        if (enabled) {
            cleanUpAfterCrash();
        }
    }

    /**
     * Starts {@code cold}'s domain: restored from its template when there is one, else booted (and the template
     * queued).
     */
    Started start(VpsRecord r, DomainConfig cold, Duration readyTimeout) {
        Optional<TemplateKey> key = enabled ? keyFor(r) : Optional.empty();
        if (key.isPresent()) {
            Optional<Path> snap = cache.lookup(key.get());
            if (snap.isPresent()) {
                Optional<Started> warm = restore(key.get(), snap.get(), cold, readyTimeout);
                if (warm.isPresent()) {
                    return warm.get();
                }
            } else {
                TemplateKey k = key.get();
                // Once the template is in place, warm up the pool's runners for it.
                cache.requestBuild(k, this::buildTemplate).ifPresent(f -> Thread.ofVirtual()
                        .name("pool-after-template").start(() -> {
                            try {
                                f.get();
                                pool.fill(k);
                            } catch (Exception e) {
                                // the build failed (logged by the cache): nothing to warm up for
                            }
                        }));
            }
        }
        return new Started(launcher.launch(cold, false, readyTimeout), "cold", 0, 0, false);
    }

    private Optional<Started> restore(TemplateKey key, Path snap, DomainConfig cold, Duration readyTimeout) {
        long t0 = System.nanoTime();
        DomainLauncher.Launched l = null;
        boolean pooled = false;
        Optional<PooledStandby> standby = pool.take(key);
        if (standby.isPresent()) {
            try {
                l = standby.get().standby().restore(snap, Optional.of(cold), false, readyTimeout);
                pooled = true;
            } catch (DomainException e) {
                standby.get().close();
                if (DomainException.EXISTS.equals(e.code())) {
                    throw e; // the VPS already runs: the supervisor adopts it
                }
                // A standby that died or failed: a fresh runner below tells whether the template itself is bad.
                LOG.warnf("event=warm_start_pool_failed vps_domain=%s pid=%d error=\"%s\" fallback=fresh_runner",
                        cold.name(), standby.get().pid(), quote(e.getMessage()));
            }
        }
        try {
            if (l == null) {
                l = launcher.restore(snap, Optional.of(cold), false, readyTimeout);
            }
        } catch (DomainException e) {
            if (DomainException.EXISTS.equals(e.code())) {
                throw e; // the VPS already runs: the supervisor adopts it
            }
            cache.invalidate(key, "restore failed: " + e.getMessage());
            LOG.warnf("event=warm_start_failed vps_domain=%s stage=restore error=\"%s\" fallback=cold", cold.name(),
                    quote(e.getMessage()));
            return Optional.empty();
        }
        long t1 = System.nanoTime();
        try (DomainClient c = DomainClient.connect(runDir, cold.name())) {
            c.controlLine(resumeLine());
        } catch (DomainException e) {
            LOG.warnf("event=warm_start_failed vps_domain=%s stage=resume error=\"%s\" fallback=cold", cold.name(),
                    quote(e.getMessage()));
            destroy(cold.name(), l.pid());
            return Optional.empty();
        }
        long t2 = System.nanoTime();
        return Optional.of(new Started(l, "warm", (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, pooled));
    }

    /**
     * One standby runner for the pool, warmed up by a throw-away clone of {@code key}'s template: a copy of the
     * image's root disk of the VPS size, a blank config drive, an unattached tap; resumed with a fresh seed and run
     * until its ready marker (the same kernel, init and dropbear paths a customer's clone runs). Without a template
     * the runner starts cold (no warm-up).
     */
    private PooledStandby startStandby(TemplateKey key) throws Exception {
        Optional<Path> snap = cache.lookup(key);
        if (snap.isEmpty()) {
            return new PooledStandby(launcher.standby(Optional.empty(), POOL_WARMUP_TIMEOUT));
        }
        int seq = poolSeq.incrementAndGet();
        String tap = "dpool" + Long.toHexString(ProcessHandle.current().pid() & 0xffff) + "." + seq;
        if (tap.length() > 15) {
            tap = tap.substring(0, 15);
        }
        Path work = poolWork.resolve(Integer.toString(seq));
        deleteTree(work);
        Files.createDirectories(work);
        try {
            Path root = work.resolve("root.img");
            Path src = disks.imageDir(key.image()).resolve("rootfs.ext4");
            dev.domus.agent.infra.Tools.run(dev.domus.agent.domain.AgentException.DISK, Duration.ofMinutes(5),
                    List.of("cp", "--sparse=always", "--reflink=auto",
                            disks.template(key.image(), src, key.diskGb()).toString(), root.toString()));
            Path cfgDrive = work.resolve("config.img");
            sparse(cfgDrive, CONFIG_DRIVE_BYTES);
            Path cfg = work.resolve("warmup.cfg");
            Files.writeString(cfg, "# warm-up clone of " + key.describe() + " for a standby runner\n"
                    + "name = \"pool-" + seq + "\"\n"
                    + "memory = " + key.memoryMb() + "\n"
                    + "vcpus = " + key.vcpus() + "\n"
                    + "kernel = \"" + disks.imageDir(key.image()).resolve("Image") + "\"\n"
                    + "extra = \"" + key.console() + " root=/dev/vda rw\"\n"
                    + "disk = [ '" + root + ",rw,vda', '" + cfgDrive + ",ro,vdb' ]\n"
                    // No bridge: the tap stays unattached, the clone's traffic goes nowhere.
                    + "vif = [ 'mac=" + POOL_MAC + ",vifname=" + tap + "' ]\n"
                    + "on_poweroff = \"destroy\"\non_reboot = \"destroy\"\non_crash = \"destroy\"\n");
            net.removeTap(tap);
            return new PooledStandby(launcher.standby(Optional.of(new DomainLauncher.Warmup(snap.get(), cfg,
                    resumeLine(), "DOMUS-GUEST-READY", POOL_WARMUP_TIMEOUT)), POOL_WARMUP_TIMEOUT.plusMinutes(1)));
        } finally {
            net.removeTap(tap);
            deleteTree(work);
        }
    }

    /**
     * After an agent start: warms up the pool for the cached template most of {@code records} were made from (an
     * agent restart ends the idle standbys, so without this the next create would pay a fresh runner). Nothing when
     * warm start or the pool is off or no record's template is cached.
     */
    void prime(Collection<VpsRecord> records) {
        if (!enabled || !pool.enabled()) {
            return;
        }
        Map<TemplateKey, Long> uses = new HashMap<>();
        for (VpsRecord r : records) {
            keyFor(r).ifPresent(k -> uses.merge(k, 1L, Long::sum));
        }
        uses.entrySet().stream().filter(e -> cache.lookup(e.getKey()).isPresent())
                .max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).ifPresent(k -> {
                    LOG.infof("event=runner_pool_prime template=%s vps_using_it=%d", k.id(), uses.get(k));
                    pool.fill(k);
                });
    }

    int idleStandbys() {
        return pool.idleCount();
    }

    /**
     * Host memory to keep for the pool's idle runners: {@value #STANDBY_RESERVE_MB} MiB each (an idle standby JVM
     * with its warmed-up, throw-away guest measured 73-104 MiB RSS).
     */
    long standbyReserveMb() {
        return enabled ? (long) pool.size() * STANDBY_RESERVE_MB : 0;
    }

    /** {@code resume <32 random bytes in hex> <unix seconds>}. */
    String resumeLine() {
        byte[] seed = new byte[32];
        random.nextBytes(seed);
        return "resume " + HexFormat.of().formatHex(seed) + " " + Instant.now().getEpochSecond();
    }

    /** The template key of {@code r}; empty when its image cannot be booted as a template (no initramfs). */
    Optional<TemplateKey> keyFor(VpsRecord r) {
        Path dir = disks.imageDir(r.image());
        Path kernel = dir.resolve("Image");
        Path initramfs = dir.resolve("initramfs.cpio.gz");
        if (!Files.isRegularFile(initramfs)) {
            return Optional.empty();
        }
        try {
            String stamp = kernel + ":" + Files.size(kernel) + ":" + Files.getLastModifiedTime(kernel).toMillis()
                    + ":" + Files.size(initramfs) + ":" + Files.getLastModifiedTime(initramfs).toMillis();
            String sum = imageSums.computeIfAbsent(stamp, s -> sha256(List.of(kernel, initramfs)));
            return Optional.of(new TemplateKey(r.image(), sum, r.memoryMb(), r.vcpus(), r.diskGb(), config.console(),
                    runnerSum()));
        } catch (IOException | IllegalStateException e) {
            LOG.warnf("event=template_key_failed image=%s error=\"%s\"", r.image(), quote(String.valueOf(e)));
            return Optional.empty();
        }
    }

    /** Boots the template domain of {@code key}, waits for its marker and saves it to {@code out}. */
    void buildTemplate(TemplateKey key, Path out) throws Exception {
        String name = TEMPLATE_PREFIX + key.id();
        String tap = "dtpl" + key.id().substring(0, 10);
        Path work = workRoot.resolve(key.id());
        deleteTree(work);
        Files.createDirectories(work);
        Path root = work.resolve("root.img");
        Path cfgDrive = work.resolve("config.img");
        sparse(root, (long) key.diskGb() << 30);
        sparse(cfgDrive, CONFIG_DRIVE_BYTES);
        Path dir = disks.imageDir(key.image());
        Path cfg = work.resolve("template.cfg");
        Files.writeString(cfg, "# template of " + key.describe() + "; generated by the Domus host agent\n"
                + "name = \"" + name + "\"\n"
                + "memory = " + key.memoryMb() + "\n"
                + "vcpus = " + key.vcpus() + "\n"
                + "kernel = \"" + dir.resolve("Image") + "\"\n"
                + "ramdisk = \"" + dir.resolve("initramfs.cpio.gz") + "\"\n"
                + "extra = \"" + key.console() + " root=/dev/vda rw domus.template=1\"\n"
                // The same device list as DomainSupervisor's VPS config: restore checks it.
                + "disk = [ '" + root + ",rw,vda', '" + cfgDrive + ",ro,vdb' ]\n"
                + "vif = [ 'mac=" + TEMPLATE_MAC + ",bridge=" + net.bridge() + ",vifname=" + tap + "' ]\n"
                + "on_poweroff = \"destroy\"\non_reboot = \"destroy\"\non_crash = \"destroy\"\n");
        net.ensureBridge();
        net.removeTap(tap);
        long t0 = System.nanoTime();
        DomainLauncher.Launched l = null;
        buildingDomain = name;
        try {
            l = launcher.launch(DomainConfig.load(cfg), false, buildTimeout);
            awaitMarker(name, buildTimeout);
            long tReady = System.nanoTime();
            try (DomainClient c = DomainClient.connect(runDir, name)) {
                c.setCallTimeout(SAVE_TIMEOUT);
                c.save(out.toAbsolutePath(), false);
            }
            awaitGone(name, l.pid());
            LOG.infof("event=template_snapshot %s boot_ms=%d save_ms=%d", key.describe(),
                    (tReady - t0) / 1_000_000, (System.nanoTime() - tReady) / 1_000_000);
        } catch (Exception e) {
            destroy(name, l == null ? 0 : l.pid());
            throw e;
        } finally {
            buildingDomain = null;
            net.removeTap(tap);
            deleteTree(work);
        }
    }

    /** Follows the template's console until the marker; an error marker, end of console or the timeout fail. */
    private void awaitMarker(String name, Duration timeout) throws Exception {
        ConsoleClient c = ConsoleClient.attach(runDir, name);
        CompletableFuture<String> seen = new CompletableFuture<>();
        Thread reader = Thread.ofVirtual().name("template-console-" + name).start(() -> {
            StringBuilder line = new StringBuilder();
            byte[] buf = new byte[4096];
            try {
                int n;
                while ((n = c.read(buf, 0, buf.length)) >= 0) {
                    for (int i = 0; i < n; i++) {
                        char ch = (char) (buf[i] & 0xff);
                        if (ch != '\n') {
                            if (line.length() < 256 && ch != '\r') {
                                line.append(ch);
                            }
                            continue;
                        }
                        String l = line.toString();
                        line.setLength(0);
                        if (l.contains(TEMPLATE_READY) || l.contains(TEMPLATE_ERROR)) {
                            seen.complete(l.strip());
                            return;
                        }
                    }
                }
                seen.complete("console closed");
            } catch (IOException e) {
                seen.complete("console failed: " + e.getMessage());
            }
        });
        try {
            String got = seen.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!got.contains(TEMPLATE_READY)) {
                throw new IOException("template boot of " + name + " did not reach " + TEMPLATE_READY + ": " + got);
            }
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("template boot of " + name + " printed no " + TEMPLATE_READY + " within "
                    + timeout);
        } finally {
            c.close();
            reader.interrupt();
        }
    }

    /** Destroys a domain this class started and waits until its runner is gone. */
    private void destroy(String name, long pid) {
        if (runDir.isHeld(name)) {
            try (DomainClient c = DomainClient.connect(runDir, name)) {
                c.destroy();
            } catch (DomainException e) {
                LOG.debugf("event=template_destroy_call_failed domain=%s error=%s", name, e.getMessage());
            }
        }
        awaitGone(name, pid);
    }

    private void awaitGone(String name, long pid) {
        long deadline = System.nanoTime() + EXIT_TIMEOUT.toNanos();
        while (runDir.isHeld(name) && System.nanoTime() < deadline) {
            sleep(50);
        }
        if (runDir.isHeld(name)) {
            runDir.recordedPid(name).ifPresent(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly));
        }
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(ph -> {
                try {
                    ph.onExit().get(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    ph.destroyForcibly();
                }
            });
        }
        runDir.cleanIfStale(name);
    }

    /** Template domains and work files a killed agent left behind. */
    private void cleanUpAfterCrash() {
        for (String name : runDir.domainNames()) {
            if (name.startsWith(TEMPLATE_PREFIX) && runDir.isHeld(name)) {
                LOG.infof("event=template_domain_left_over domain=%s action=destroy", name);
                destroy(name, runDir.recordedPid(name).orElse(0L));
            }
        }
        try {
            deleteTree(workRoot);
            deleteTree(poolWork);
        } catch (IOException e) {
            LOG.warnf("event=template_work_cleanup_failed dir=%s error=%s", workRoot, e);
        }
    }

    private String runnerSum() {
        String s = runnerSum;
        if (s == null) {
            try {
                Path src = Path.of(DomainRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                List<Path> files;
                if (Files.isDirectory(src)) {
                    try (var w = Files.walk(src)) {
                        files = w.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString)).toList();
                    }
                } else {
                    files = List.of(src);
                }
                s = sha256(files);
            } catch (URISyntaxException | IOException | RuntimeException e) {
                // Unknown code: a per-process value, so templates of an unknown runner are never reused.
                s = "unknown-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
            }
            runnerSum = s;
        }
        return s;
    }

    private static String sha256(List<Path> files) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (Path f : files) {
                d.update(f.toString().getBytes(StandardCharsets.UTF_8));
                try (InputStream in = Files.newInputStream(f)) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        d.update(buf, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException("cannot hash " + files + ": " + e, e);
        }
    }

    private static void sparse(Path f, long bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(bytes);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String quote(String s) {
        return s == null ? "" : s.replace('"', '\'');
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops template building; a template domain being booted is destroyed (the agent's domains stay). */
    @Override
    public void close() {
        pool.close();
        if (cache != null) {
            cache.close();
        }
        String b = buildingDomain;
        if (b != null) {
            destroy(b, runDir.recordedPid(b).orElse(0L));
        }
    }
}
