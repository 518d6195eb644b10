// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

import dev.domus.xen.memory.GuestMemory;

import java.lang.invoke.MethodHandles;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One daemon thread per JVM that translates hot regions while the vCPUs keep interpreting them. A translation costs
 * milliseconds (class generation, hidden-class definition and verification); done on the vCPU thread during a Linux
 * boot, thousands of them made the JIT boot slower than the interpreter. The vCPU only queues the entry and picks
 * the result up on a later visit ({@link BlockMap.Entry#ready}), so it never waits for the translator.
 */
final class BackgroundCompiler {
    /** Queued translations at most; when the translator falls this far behind, hot regions wait for a later visit. */
    private static final int MAX_QUEUED = 2048;
    private static final System.Logger LOG = System.getLogger(BackgroundCompiler.class.getName());

    /** A finished translation: the region (empty = its first instruction stays interpreted) and its page state. */
    record Ready(Optional<Translator.Result> result, int pageState, long nanos) {
    }

    private record Job(GuestMemory ram, BlockMap.Entry entry) {
    }

    private final BlockingQueue<Job> queue = new ArrayBlockingQueue<>(MAX_QUEUED);
    private final Translator translator = new Translator(MethodHandles.lookup());

    private BackgroundCompiler() {
        Thread t = new Thread(this::loop, "domus-jit-compiler");
        t.setDaemon(true);
        t.start();
    }

    private static final class Holder {
        static final BackgroundCompiler INSTANCE = new BackgroundCompiler();
    }

    static BackgroundCompiler get() {
        return Holder.INSTANCE;
    }

    /** Queues {@code e} for translation; false when the queue is full (the caller retries on a later visit). */
    boolean submit(GuestMemory ram, BlockMap.Entry e) {
        return queue.offer(new Job(ram, e));
    }

    private void loop() {
        while (true) {
            Job j;
            try {
                j = queue.take();
            } catch (InterruptedException ex) {
                continue; // a daemon that lives as long as the JVM: nothing to shut down
            }
            BlockMap.Entry e = j.entry();
            long t0 = System.nanoTime();
            int pageState = j.ram().watchCode(e.pa - j.ram().base());
            try {
                Optional<Translator.Result> r = translator.translate(j.ram(), e.pa);
                e.ready = new Ready(r, pageState, System.nanoTime() - t0);
            } catch (RuntimeException | LinkageError ex) {
                // A translator bug (or RAM of a machine that has been closed meanwhile): the region stays
                // interpreted, which is always correct; the vCPU must not notice.
                LOG.log(System.Logger.Level.WARNING, "event=jit-translate-failed pa=0x" + Long.toHexString(e.pa)
                        + " error=" + ex, ex);
                e.ready = new Ready(Optional.empty(), pageState, System.nanoTime() - t0);
            }
        }
    }
}
