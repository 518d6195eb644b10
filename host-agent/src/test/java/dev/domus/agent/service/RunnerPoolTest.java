// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.domain.DomainLauncher;
import dev.domus.xen.domain.RunDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RunnerPool}: refill after a take, preference for a runner warmed up for the same key, dead runners dropped,
 * a few spaced retries on failures (never a loop), everything ended on close. The runners are real processes ({@code sleep}) behind a
 * test runner class; the last test uses real standby domain runners (xen-core's {@code DomainRunner --standby}) and
 * checks that an idle pool leaves nothing in the run directory that could be listed or adopted as a domain.
 */
class RunnerPoolTest {
    private static final Duration WAIT = Duration.ofSeconds(120);

    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private Path runDirPath;

    /** A real child process standing for a runner. */
    private final class SleepRunner implements RunnerPool.Runner {
        final Process p;
        final String key;
        boolean used;

        SleepRunner(String key) throws IOException {
            this.key = key;
            this.p = new ProcessBuilder("sleep", "600").start();
            processes.add(p);
        }

        @Override
        public long pid() {
            return p.pid();
        }

        @Override
        public boolean isAlive() {
            return !used && p.isAlive();
        }

        @Override
        public void close() {
            p.destroyForcibly();
        }
    }

    @AfterEach
    void killAll() throws IOException {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        if (runDirPath != null) {
            try (var s = Files.walk(runDirPath)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void takeHandsOutAnIdleRunnerAndRefills() throws Exception {
        AtomicInteger starts = new AtomicInteger();
        try (RunnerPool<String, SleepRunner> pool = new RunnerPool<>(1, k -> {
            starts.incrementAndGet();
            return new SleepRunner(k);
        })) {
            assertThat(pool.take("a")).as("nothing started yet").isEmpty();
            await(() -> pool.idleCount() == 1, "first runner");
            Optional<SleepRunner> r = pool.take("a");
            assertThat(r).isPresent();
            assertThat(r.get().p.isAlive()).isTrue();
            await(() -> pool.idleCount() == 1, "refilled after the take");
            assertThat(pool.idlePids()).doesNotContain(r.get().pid());
            assertThat(starts.get()).isEqualTo(2);
            // A taken runner is the caller's: closing the pool leaves it alone.
            pool.close();
            assertThat(r.get().p.isAlive()).isTrue();
        }
    }

    @Test
    void prefersARunnerWarmedUpForTheSameKey() throws Exception {
        try (RunnerPool<String, SleepRunner> pool = new RunnerPool<>(2, SleepRunner::new)) {
            pool.fill("a");
            await(() -> pool.idleCount() == 2, "two runners for a");
            // No b-runner yet: a take for b gets an a-runner (better than a fresh JVM) and refills for b.
            SleepRunner any = pool.take("b").orElseThrow();
            assertThat(any.key).isEqualTo("a");
            await(() -> pool.idleCount() == 2, "refilled for b");
            // Idle now: [a, b] in that order; a take for b picks b.
            assertThat(pool.take("b").orElseThrow().key).isEqualTo("b");
            assertThat(pool.take("a").orElseThrow().key).isEqualTo("a");
        }
    }

    @Test
    void deadRunnersAreDroppedAndReplaced() throws Exception {
        try (RunnerPool<String, SleepRunner> pool = new RunnerPool<>(1, SleepRunner::new)) {
            pool.fill("a");
            await(() -> pool.idleCount() == 1, "first runner");
            long dead = pool.idlePids().getFirst();
            ProcessHandle h = ProcessHandle.of(dead).orElseThrow();
            h.destroyForcibly();
            h.onExit().get();
            await(() -> !ProcessHandle.of(dead).map(ProcessHandle::isAlive).orElse(false), "killed");
            Optional<SleepRunner> r = pool.take("a");
            assertThat(r).as("a dead runner is never handed out").isEmpty();
            await(() -> pool.idleCount() == 1, "replaced");
            assertThat(pool.take("a").orElseThrow().pid()).isNotEqualTo(dead);
        }
    }

    @Test
    void aFailingFactoryIsRetriedAFewTimesOnlyThenOnTheNextTake() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (RunnerPool<String, SleepRunner> pool = new RunnerPool<>(1, Duration.ZERO, Duration.ofMillis(20), k -> {
            calls.incrementAndGet();
            throw new IOException("no template");
        })) {
            pool.fill("a");
            await(() -> pool.failedCount() == 1 + RunnerPool.MAX_RETRIES, "the first start and its retries");
            Thread.sleep(500); // a retry loop would have called again by now (a negative check needs some time)
            assertThat(calls.get()).isEqualTo(1 + RunnerPool.MAX_RETRIES);
            assertThat(pool.take("a")).isEmpty();
            await(() -> pool.failedCount() == 2 + RunnerPool.MAX_RETRIES, "the next take tries again");
        }
    }

    @Test
    void aStartThatFailedOnceIsRetriedWithoutATake() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (RunnerPool<String, SleepRunner> pool = new RunnerPool<>(1, Duration.ZERO, Duration.ofMillis(20), k -> {
            if (calls.incrementAndGet() == 1) {
                throw new IOException("warm-up timed out");
            }
            return new SleepRunner(k);
        })) {
            pool.fill("a");
            await(() -> pool.idleCount() == 1, "a runner after the retry");
            assertThat(pool.failedCount()).isEqualTo(1);
            assertThat(calls.get()).isEqualTo(2);
        }
    }

    @Test
    void closeEndsEveryIdleRunnerAndOffStartsNothing() throws Exception {
        List<SleepRunner> made = new ArrayList<>();
        RunnerPool<String, SleepRunner> pool = new RunnerPool<>(3, k -> {
            SleepRunner r = new SleepRunner(k);
            synchronized (made) {
                made.add(r);
            }
            return r;
        });
        pool.fill("a");
        await(() -> pool.idleCount() == 3, "three runners");
        pool.close();
        for (SleepRunner r : made) {
            assertThat(r.p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("runner %d ended", r.pid()).isTrue();
        }
        assertThat(pool.take("a")).isEmpty();

        AtomicInteger calls = new AtomicInteger();
        try (RunnerPool<String, SleepRunner> off = new RunnerPool<>(0, k -> {
            calls.incrementAndGet();
            return new SleepRunner(k);
        })) {
            off.fill("a");
            assertThat(off.take("a")).isEmpty();
            assertThat(off.enabled()).isFalse();
        }
        assertThat(calls.get()).isZero();
        assertThatThrownBy(() -> new RunnerPool<String, SleepRunner>(-1, SleepRunner::new))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..16");
    }

    @Test
    void realStandbyRunnersAreNeverDomainsAndEndWithThePool() throws Exception {
        runDirPath = Files.createTempDirectory(Path.of("/tmp"), "rpool");
        RunDir runDir = RunDir.at(runDirPath.resolve("xl"));
        DomainLauncher launcher = new DomainLauncher(runDir, Map.of());
        List<Long> pids = new CopyOnWriteArrayList<>();
        RunnerPool<String, WarmStart.PooledStandby> pool = new RunnerPool<>(1, k -> {
            WarmStart.PooledStandby s = new WarmStart.PooledStandby(launcher.standby(Optional.empty(), WAIT));
            pids.add(s.pid());
            return s;
        });
        try {
            pool.fill("a");
            await(() -> pool.idleCount() == 1, "a standby runner");
            long pid = pool.idlePids().getFirst();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
            // Nothing a supervisor could list or adopt: no domain names, no pid, socket or lock files.
            assertThat(runDir.domainNames()).isEmpty();
            try (var files = Files.list(runDir.path())) {
                assertThat(files.map(p -> p.getFileName().toString()))
                        .noneMatch(n -> n.endsWith(".pid") || n.endsWith(".sock") || n.endsWith(".lock"));
            }
            // A taken standby refuses a snapshot that does not exist and stays usable.
            WarmStart.PooledStandby s = pool.take("a").orElseThrow();
            assertThatThrownBy(() -> s.standby().restore(runDirPath.resolve("missing.snap"), Optional.empty(), false,
                    WAIT)).hasMessageContaining("missing.snap");
            assertThat(s.isAlive()).isTrue();
            s.close();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            await(() -> pool.idleCount() == 1, "refilled");
        } finally {
            pool.close();
        }
        for (long p : pids) {
            Optional<ProcessHandle> h = ProcessHandle.of(p);
            if (h.isPresent()) {
                h.get().onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            assertThat(ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)).as("standby %d ended", p)
                    .isFalse();
        }
        try (var files = Files.list(runDir.path().resolve("standby"))) {
            assertThat(files.toList()).as("standby logs removed").isEmpty();
        }
    }

    @Test
    void cpuAndMemoryOfAProcess() {
        long self = ProcessHandle.current().pid();
        assertThat(RunnerPool.cpuMillis(self)).as("this JVM has used CPU").isPositive();
        assertThat(RunnerPool.rssBytes(self)).isGreaterThan(1L << 20);
        assertThat(RunnerPool.cpuMillis(Long.MAX_VALUE)).isZero();
        assertThat(RunnerPool.rssBytes(Long.MAX_VALUE)).isZero();
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
