// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PriorityTest {
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;

    @Test
    void raisesTheCurrentThreadAndRestoresIt() throws Exception {
        Optional<Integer> before = Priority.currentPolicy();
        assertTrue(before.isPresent(), "sched_getscheduler must be reachable through java.lang.foreign");
        assertEquals(SCHED_OTHER, before.get());
        boolean root = "root".equals(System.getProperty("user.name"));
        Priority.Raised r = Priority.raiseCurrentThread("test");
        try {
            assertEquals(root, r.raised(), "root may raise, others are refused (and carry on)");
            assertEquals(r.raised() ? SCHED_FIFO : SCHED_OTHER, Priority.currentPolicy().orElseThrow());
            // A thread started from a raised one must not inherit the real-time policy (SCHED_RESET_ON_FORK).
            AtomicReference<Optional<Integer>> child = new AtomicReference<>(Optional.empty());
            Thread t = Thread.ofPlatform().start(() -> child.set(Priority.currentPolicy()));
            t.join(30_000);
            assertEquals(Optional.of(SCHED_OTHER), child.get());
        } finally {
            r.close();
        }
        assertFalse(r.raised());
        assertEquals(SCHED_OTHER, Priority.currentPolicy().orElseThrow());
        r.close(); // idempotent
        assertEquals(SCHED_OTHER, Priority.currentPolicy().orElseThrow());
    }

    @Test
    void restoresFromAnotherThread() throws Exception {
        AtomicReference<Priority.Raised> handle = new AtomicReference<>();
        AtomicReference<Optional<Integer>> after = new AtomicReference<>(Optional.empty());
        Object lock = new Object();
        Thread t = Thread.ofPlatform().start(() -> {
            handle.set(Priority.raiseCurrentThread("test"));
            synchronized (lock) {
                lock.notifyAll();
                while (handle.get().raised()) {
                    try {
                        lock.wait(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            after.set(Priority.currentPolicy());
        });
        long until = System.nanoTime() + 30_000_000_000L;
        while (handle.get() == null && System.nanoTime() < until) {
            Thread.sleep(1);
        }
        handle.get().close();
        t.join(30_000);
        assertEquals(Optional.of(SCHED_OTHER), after.get());
    }

    @Test
    void favoursTheCurrentThreadForABulkCopyAndPutsItsNiceValueBack() throws Exception {
        int before = Priority.currentNice().orElseThrow(); // 0, or 10 under `nice mvn`
        assertTrue(before > Priority.FAVOURED_NICE);
        boolean root = "root".equals(System.getProperty("user.name"));
        Priority.Raised r = Priority.favourCurrentThread("test");
        try {
            assertEquals(root, r.raised(), "root may lower its nice value, others are refused (and carry on)");
            assertEquals(r.raised() ? Priority.FAVOURED_NICE : before, Priority.currentNice().orElseThrow());
            // Still a normal thread: only its weight among the runner's own threads changed.
            assertEquals(SCHED_OTHER, Priority.currentPolicy().orElseThrow());
        } finally {
            r.close();
        }
        assertFalse(r.raised());
        assertEquals(before, Priority.currentNice().orElseThrow());
        r.close(); // idempotent
        assertEquals(before, Priority.currentNice().orElseThrow());
    }

    @Test
    void aBackgroundThreadRunsAtTheHighestNiceValue() throws Exception {
        int before = Priority.currentNice().orElseThrow();
        AtomicReference<Optional<Integer>> inside = new AtomicReference<>(Optional.empty());
        Thread t = Thread.ofPlatform().start(() -> {
            Priority.backgroundCurrentThread("test");
            inside.set(Priority.currentNice());
        });
        t.join(30_000);
        assertEquals(Optional.of(Priority.BACKGROUND_NICE), inside.get());
        assertEquals(before, Priority.currentNice().orElseThrow(), "only the calling thread changes");
    }

    @Test
    void warmingChangesNeitherPolicyNorNiceValue() {
        int before = Priority.currentNice().orElseThrow();
        Priority.warm();
        assertEquals(SCHED_OTHER, Priority.currentPolicy().orElseThrow());
        assertEquals(before, Priority.currentNice().orElseThrow());
    }
}
