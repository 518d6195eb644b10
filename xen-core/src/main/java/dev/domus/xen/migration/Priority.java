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
    /** {@code setpriority(PRIO_PROCESS, tid, ..)} sets one thread's nice value on Linux. */
    private static final int PRIO_PROCESS = 0;
    /**
     * The nice value of a migration's bulk-copy threads ({@link #favourCurrentThread}): weight 3121 against 1024
     * for a nice-0 thread of the same runner (the guest's vCPU on the source, the domain build on the target).
     */
    static final int FAVOURED_NICE = -5;
    /** The nice value of background warm-ups ({@link #backgroundCurrentThread}): weight 15 against 1024. */
    static final int BACKGROUND_NICE = 19;

    private static final Optional<Calls> CALLS = Calls.lookup();

    private Priority() {
    }

    /** A raised thread; {@link #close} puts it back (idempotent, from any thread). */
    public sealed interface Raised extends AutoCloseable permits Once, NotRaised {
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
            int nice = (int) c.getPriority.invokeExact(PRIO_PROCESS, tid);
            int same = (int) c.setPriority.invokeExact(PRIO_PROCESS, tid, nice);
        } catch (Throwable t) {
            // only a lost speed-up
        }
    }

    /**
     * Lowers the calling thread's nice value to {@link #FAVOURED_NICE} (if it is higher), until {@link Raised#close}
     * puts the old value back; a host that refuses (no {@code CAP_SYS_NICE}) logs it and changes nothing. A runner
     * is a scheduler group of its own, so this only orders the thread against its own runner's others: on the
     * source the busy guest's vCPU, which otherwise halves the runner's share with the sender, on the target the
     * domain build and warm-ups, which halved it with the receiver. Threads started meanwhile inherit the value:
     * call it after starting them, close it before starting more. Never throws.
     */
    public static Raised favourCurrentThread(String what) {
        return renice(FAVOURED_NICE, what);
    }

    /**
     * Raises the calling thread's nice value to {@link #BACKGROUND_NICE} for good (always permitted): for warm-ups
     * that should only take CPU time the runner's other threads leave idle. Never throws.
     */
    public static void backgroundCurrentThread(String what) {
        renice(BACKGROUND_NICE, what);
    }

    private static Raised renice(int nice, String what) {
        if (CALLS.isEmpty()) {
            return NONE;
        }
        Calls c = CALLS.get();
        try {
            int tid = (int) c.gettid.invokeExact();
            int old = (int) c.getPriority.invokeExact(PRIO_PROCESS, tid);
            if (nice < 0 ? old <= nice : old >= nice) {
                return NONE;
            }
            if ((int) c.setPriority.invokeExact(PRIO_PROCESS, tid, nice) != 0) {
                LOG.log(System.Logger.Level.INFO, "event=migration_nice favoured=false what=" + what
                        + " reason=refused tid=" + tid);
                return NONE;
            }
            return new Renice(c, tid, old);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.INFO, "event=migration_nice favoured=false what=" + what + " reason=" + t);
            return NONE;
        }
    }

    /** The nice value of the calling thread, empty when it cannot be read. */
    static Optional<Integer> currentNice() {
        if (CALLS.isEmpty()) {
            return Optional.empty();
        }
        try {
            Calls c = CALLS.get();
            int tid = (int) c.gettid.invokeExact();
            return Optional.of((int) c.getPriority.invokeExact(PRIO_PROCESS, tid));
        } catch (Throwable t) {
            return Optional.empty();
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

    /** A raised thread that is put back once: the first {@link #close} runs {@link #putBack}, later ones nothing. */
    abstract static sealed class Once implements Raised permits Restore, Renice {
        final Calls calls;
        final int tid;
        private boolean closed;

        Once(Calls calls, int tid) {
            this.calls = calls;
            this.tid = tid;
        }

        @Override
        public final synchronized boolean raised() {
            return !closed;
        }

        @Override
        public final synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            putBack();
        }

        /** Restores the thread's old setting; logs and swallows a failure. */
        abstract void putBack();
    }

    /** Puts back a thread's scheduling policy and real-time priority. */
    static final class Restore extends Once {
        private final int policy;
        private final int priority;

        Restore(Calls calls, int tid, int policy, int priority) {
            super(calls, tid);
            this.policy = policy;
            this.priority = priority;
        }

        @Override
        void putBack() {
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

    /** Puts back a thread's nice value. */
    static final class Renice extends Once {
        private final int nice;

        Renice(Calls calls, int tid, int nice) {
            super(calls, tid);
            this.nice = nice;
        }

        @Override
        void putBack() {
            try {
                if ((int) calls.setPriority.invokeExact(PRIO_PROCESS, tid, nice) != 0) {
                    LOG.log(System.Logger.Level.WARNING, "event=migration_nice restored=false tid=" + tid);
                }
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "event=migration_nice restored=false tid=" + tid + " error=" + t);
            }
        }
    }

    /** The libc calls; looked up once. */
    record Calls(MethodHandle gettid, MethodHandle getScheduler, MethodHandle getParam, MethodHandle setScheduler,
                 MethodHandle getPriority, MethodHandle setPriority) {
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
                                        ValueLayout.ADDRESS)),
                        l.downcallHandle(libc.find("getpriority").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                        l.downcallHandle(libc.find("setpriority").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                        ValueLayout.JAVA_INT))));
            } catch (RuntimeException | LinkageError e) {
                return Optional.empty();
            }
        }
    }
}
