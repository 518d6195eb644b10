// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Idle domain-runner JVMs started ahead of need ("standby runners"), so that a warm start restores its snapshot
 * into a process that is already running and whose CPU engine HotSpot has already compiled (each one warmed up by
 * a throw-away clone of the template it is kept for), instead of paying a JVM start and a JIT warm-up inside the
 * customer's create-to-SSH time.
 *
 * <p>At most {@code size} idle runners; {@link #take} hands one out (preferring one warmed up for the same
 * template) and refills in the background, one runner at a time, so refills never compete with each other for the
 * host's CPUs. Idle runners hold no name in the run directory, so they are never listed or adopted as domains; they
 * are closed on {@link #close} (and end by themselves when the agent dies, since their stdin closes).
 *
 * @param <K> what a runner is warmed up for (a template key)
 * @param <R> the runner
 */
final class RunnerPool<K, R extends RunnerPool.Runner> implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RunnerPool.class);

    /** One idle runner process. */
    interface Runner {
        long pid();

        /** Still usable (alive, not handed out). */
        boolean isAlive();

        /** Ends the process if it is still idle. */
        void close();

        /** key=value words for the pool's log line (e.g. how its warm-up went). */
        default String describe() {
            return "";
        }
    }

    /** Starts (and warms up) one runner for {@code key}; blocking, called on the pool's refill thread only. */
    @FunctionalInterface
    interface Factory<K, R> {
        R start(K key) throws Exception;
    }

    private record Idle<K, R>(K key, R runner) { }

    private final int size;
    static final int MAX_RETRIES = 2;
    private static final Duration RETRY_DELAY = Duration.ofSeconds(30);

    private final Duration refillDelay;
    private final Duration retryDelay;
    private int failedInARow;
    private final Factory<K, R> factory;
    private final List<Idle<K, R>> idle = new ArrayList<>();
    private final ExecutorService refill;
    private K wanted;
    private boolean refilling;
    private boolean closed;
    private int started;
    private int failed;

    RunnerPool(int size, Factory<K, R> factory) {
        this(size, Duration.ZERO, factory);
    }

    /**
     * @param refillDelay how long after a {@link #take} the refill starts: the taken runner's guest is resuming then,
     *                    and a standby's warm-up (a whole guest boot) would take CPU from exactly that resume
     */
    RunnerPool(int size, Duration refillDelay, Factory<K, R> factory) {
        this(size, refillDelay, RETRY_DELAY, factory);
    }

    /**
     * @param retryDelay after a failed start the pool tries again after this delay, doubled for each further
     *                   failure, at most {@value #MAX_RETRIES} times in a row (a warm-up that timed out on a briefly
     *                   overloaded host should not leave the pool empty until the next create); zero: never
     */
    RunnerPool(int size, Duration refillDelay, Duration retryDelay, Factory<K, R> factory) {
        this.refillDelay = refillDelay;
        this.retryDelay = retryDelay;
        if (size < 0 || size > 16) {
            throw new IllegalArgumentException("pool size must be 0..16, got " + size);
        }
        this.size = size;
        this.factory = factory;
        this.refill = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("runner-pool").factory());
    }

    /** How many idle runners the pool keeps. */
    int size() {
        return size;
    }

    /** Off (size 0): {@link #take} is always empty and nothing is ever started. */
    boolean enabled() {
        return size > 0;
    }

    /**
     * An idle runner, one warmed up for {@code key} if there is one, else any live one; the pool then refills for
     * {@code key} in the background. Empty when the pool is off, closed or has none ready yet.
     */
    Optional<R> take(K key) {
        R got = null;
        synchronized (this) {
            if (closed || size == 0) {
                return Optional.empty();
            }
            dropDead();
            Idle<K, R> pick = null;
            for (Idle<K, R> i : idle) {
                if (i.key().equals(key)) {
                    pick = i;
                    break;
                }
            }
            if (pick == null && !idle.isEmpty()) {
                pick = idle.getFirst();
            }
            if (pick != null) {
                idle.remove(pick);
                got = pick.runner();
            }
        }
        if (refillDelay.isZero() || got == null) {
            fill(key);
        } else {
            CompletableFuture.delayedExecutor(refillDelay.toMillis(), TimeUnit.MILLISECONDS)
                    .execute(() -> fill(key));
        }
        return Optional.ofNullable(got);
    }

    /** Fills the pool up to its size with runners warmed up for {@code key}, in the background. */
    void fill(K key) {
        synchronized (this) {
            if (closed || size == 0) {
                return;
            }
            wanted = key;
            if (refilling || idle.size() >= size) {
                return;
            }
            refilling = true;
        }
        refill.execute(this::refillLoop);
    }

    private void refillLoop() {
        while (true) {
            K key;
            synchronized (this) {
                dropDead();
                if (closed || idle.size() >= size) {
                    refilling = false;
                    return;
                }
                key = wanted;
            }
            long t0 = System.nanoTime();
            R r;
            try {
                r = factory.start(key);
            } catch (Exception e) {
                long retryMs;
                synchronized (this) {
                    failed++;
                    failedInARow++;
                    // No retry loop: a few spaced retries, then the next take or fill tries again (a broken
                    // template would only spin).
                    retryMs = retryDelay.isZero() || failedInARow > MAX_RETRIES ? -1
                            : retryDelay.toMillis() << (failedInARow - 1);
                    refilling = false;
                }
                LOG.warnf("event=runner_pool_start_failed failed_in_a_row=%d retry_ms=%d error=\"%s\"", failedInARow,
                        retryMs, String.valueOf(e.getMessage()).replace('"', '\''));
                if (retryMs >= 0) {
                    CompletableFuture.delayedExecutor(retryMs, TimeUnit.MILLISECONDS).execute(() -> fill(key));
                }
                return;
            }
            boolean keep;
            synchronized (this) {
                keep = !closed;
                if (keep) {
                    idle.add(new Idle<>(key, r));
                    started++;
                    failedInARow = 0;
                }
            }
            if (!keep) {
                r.close();
                return;
            }
            // cpu_ms: what starting and warming up this runner cost (user + system time of the process so far).
            LOG.infof("event=runner_pool_ready pid=%d start_ms=%d cpu_ms=%d idle=%d rss_mib=%d pool_rss_mib=%d %s",
                    r.pid(), (System.nanoTime() - t0) / 1_000_000, cpuMillis(r.pid()), idleCount(),
                    rssBytes(r.pid()) >> 20, memoryBytes() >> 20, r.describe());
        }
    }

    private void dropDead() {
        for (Iterator<Idle<K, R>> it = idle.iterator(); it.hasNext(); ) {
            Idle<K, R> i = it.next();
            if (!i.runner().isAlive()) {
                it.remove();
                LOG.warnf("event=runner_pool_runner_lost pid=%d", i.runner().pid());
                i.runner().close();
            }
        }
    }

    synchronized int idleCount() {
        return idle.size();
    }

    /** Runners started and added to the pool so far (for logs and tests). */
    synchronized int startedCount() {
        return started;
    }

    synchronized int failedCount() {
        return failed;
    }

    /** The pids of the idle runners. */
    synchronized List<Long> idlePids() {
        List<Long> pids = new ArrayList<>(idle.size());
        for (Idle<K, R> i : idle) {
            pids.add(i.runner().pid());
        }
        return pids;
    }

    /** Resident memory of the idle runners ({@code VmRSS}), what the pool costs the host. */
    long memoryBytes() {
        long sum = 0;
        for (long pid : idlePids()) {
            sum += rssBytes(pid);
        }
        return sum;
    }

    /** User + system CPU time of a process in ms ({@code /proc/<pid>/stat}, 100 ticks/s); 0 when it is gone. */
    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // After "(comm)", which may hold spaces: field 3 is the state, utime and stime are fields 14 and 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[14 - 3]) + Long.parseLong(f[15 - 3])) * 10;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** {@code VmRSS} of a process in bytes; 0 when it is gone or unreadable. */
    static long rssBytes(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (l.startsWith("VmRSS:")) {
                    String[] f = l.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return 0;
    }

    /** Ends every idle runner and stops refilling; a runner being started is ended when it is ready. */
    @Override
    public void close() {
        List<Idle<K, R>> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(idle);
            idle.clear();
        }
        refill.shutdownNow();
        for (Idle<K, R> i : all) {
            i.runner().close();
        }
        try {
            refill.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!all.isEmpty()) {
            LOG.infof("event=runner_pool_closed runners=%d", all.size());
        }
    }
}
