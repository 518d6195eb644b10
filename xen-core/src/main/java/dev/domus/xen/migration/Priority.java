// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Real-time priority for the one thread on a migration's pause path, for the pause only. Each domain runner is a
 * session (hence a scheduler autogroup) of its own, so a nice value only orders a runner's own threads; against the
 * other runner, the toolstack and whatever else the host runs, the downtime was blocked threads waiting out other
 * tasks' slices (READY wait, state pick-up: 3-21 ms on a quiet box). {@code SCHED_FIFO} runs a woken thread at
 * once. The policy carries {@code SCHED_RESET_ON_FORK} so no thread started from the raised one inherits it, and
 * {@link Raised#close} restores the thread's previous policy and priority; a host that refuses (no privilege, no
 * libc) logs it and migrates at normal priority.
 */
public final class Priority {
    private static final System.Logger LOG = System.getLogger(Priority.class.getName());
    private static final int SCHED_FIFO = 1;
    private static final int SCHED_RESET_ON_FORK = 0x40000000;
    /** Low in the real-time range: above every normal thread, below the kernel's own real-time threads. */
    static final int RT_PRIORITY = 10;

    private static final Optional<Calls> CALLS = Calls.lookup();

    private Priority() {
    }

    /** A raised thread; {@link #close} puts it back (idempotent, from any thread). */
    public sealed interface Raised extends AutoCloseable permits Restore, NotRaised {
        /** True when the thread runs at real-time priority until {@link #close}. */
        boolean raised();

        @Override
        void close();
    }

    /** The handle of a thread that was not raised: closing it does nothing. */
    public static final Raised NONE = new NotRaised();

    /**
     * Raises the calling thread to {@code SCHED_FIFO}; on failure logs why (with {@code what}, the migration step)
     * and returns {@link #NONE}. Never throws.
     */
    public static Raised raiseCurrentThread(String what) {
        if (CALLS.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "event=migration_priority raised=false what=" + what
                    + " reason=no_libc_calls");
            return NONE;
        }
        Calls c = CALLS.get();
        try (Arena a = Arena.ofConfined()) {
            int tid = (int) c.gettid.invokeExact();
            int policy = (int) c.getScheduler.invokeExact(tid);
            MemorySegment param = a.allocate(ValueLayout.JAVA_INT);
            if (policy < 0 || (int) c.getParam.invokeExact(tid, param) != 0) {
                LOG.log(System.Logger.Level.INFO, "event=migration_priority raised=false what=" + what
                        + " reason=cannot_read_policy tid=" + tid);
                return NONE;
            }
            int oldPriority = param.get(ValueLayout.JAVA_INT, 0);
            param.set(ValueLayout.JAVA_INT, 0, RT_PRIORITY);
            if ((int) c.setScheduler.invokeExact(tid, SCHED_FIFO | SCHED_RESET_ON_FORK, param) != 0) {
                LOG.log(System.Logger.Level.INFO, "event=migration_priority raised=false what=" + what
                        + " reason=refused tid=" + tid);
                return NONE;
            }
            return new Restore(c, tid, policy, oldPriority);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.INFO, "event=migration_priority raised=false what=" + what
                    + " reason=" + t);
            return NONE;
        }
    }

    /**
     * Looks the libc calls up and runs each once on the calling thread, setting its own policy and priority again
     * (no change), so their first, slow invocations (downcall stubs: tens of milliseconds in a fresh JVM, 0.1 s
     * and more on a loaded host, measured inside the target's HELLO answer) happen before a migration needs them.
     */
    public static void warm() {
        if (CALLS.isEmpty()) {
            return;
        }
        Calls c = CALLS.get();
        try (Arena a = Arena.ofConfined()) {
            int tid = (int) c.gettid.invokeExact();
            int policy = (int) c.getScheduler.invokeExact(tid);
            MemorySegment param = a.allocate(ValueLayout.JAVA_INT);
            if (policy >= 0 && (int) c.getParam.invokeExact(tid, param) == 0) {
                int unchanged = (int) c.setScheduler.invokeExact(tid, policy, param);
            }
        } catch (Throwable t) {
            // only a lost speed-up
        }
    }

    /** The scheduling policy of the calling thread ({@code sched_getscheduler}), empty when it cannot be read. */
    static Optional<Integer> currentPolicy() {
        if (CALLS.isEmpty()) {
            return Optional.empty();
        }
        try {
            Calls c = CALLS.get();
            int tid = (int) c.gettid.invokeExact();
            int policy = (int) c.getScheduler.invokeExact(tid);
            return policy < 0 ? Optional.empty() : Optional.of(policy & ~SCHED_RESET_ON_FORK);
        } catch (Throwable t) {
            return Optional.empty();
        }
    }

    static final class NotRaised implements Raised {
        @Override
        public boolean raised() {
            return false;
        }

        @Override
        public void close() {
        }
    }

    static final class Restore implements Raised {
        private final Calls calls;
        private final int tid;
        private final int policy;
        private final int priority;
        private boolean closed;

        Restore(Calls calls, int tid, int policy, int priority) {
            this.calls = calls;
            this.tid = tid;
            this.policy = policy;
            this.priority = priority;
        }

        @Override
        public synchronized boolean raised() {
            return !closed;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment param = a.allocate(ValueLayout.JAVA_INT);
                param.set(ValueLayout.JAVA_INT, 0, priority);
                if ((int) calls.setScheduler.invokeExact(tid, policy, param) != 0) {
                    LOG.log(System.Logger.Level.WARNING, "event=migration_priority restored=false tid=" + tid);
                }
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "event=migration_priority restored=false tid=" + tid
                        + " error=" + t);
            }
        }
    }

    /** The libc calls; looked up once. */
    record Calls(MethodHandle gettid, MethodHandle getScheduler, MethodHandle getParam, MethodHandle setScheduler) {
        static Optional<Calls> lookup() {
            try {
                Linker l = Linker.nativeLinker();
                var libc = l.defaultLookup();
                return Optional.of(new Calls(
                        l.downcallHandle(libc.find("gettid").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT)),
                        l.downcallHandle(libc.find("sched_getscheduler").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                        l.downcallHandle(libc.find("sched_getparam").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS)),
                        l.downcallHandle(libc.find("sched_setscheduler").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                        ValueLayout.ADDRESS))));
            } catch (RuntimeException | LinkageError e) {
                return Optional.empty();
            }
        }
    }
}
