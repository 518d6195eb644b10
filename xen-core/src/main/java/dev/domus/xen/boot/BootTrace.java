// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.cpu.Hart;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Boot-time diagnostics, off unless {@code -Ddomus.boot.trace=FILE} is given: phase timestamps (JVM start, images
 * read, machine built, first guest instruction, first console byte, the guest's ready marker) relative to JVM
 * start, every console line with hart 0's instret, a 100 ms timeline of retired instructions, batches, parked
 * (idle) time and vCPU CPU time of hart 0, and a histogram of sampled guest program counters to resolve against the
 * kernel's System.map. The engines keep the pc in a local and publish it at batch ends and traps, so a sample is
 * the pc where the current batch began: a coarse, biased profile (batch starts after CSR writes and traps), not
 * an exact one. It exists to find where boot seconds go; it costs nothing when off (one null check per batch).
 */
final class BootTrace {
    private static final long JVM_START_MS = ManagementFactory.getRuntimeMXBean().getStartTime();
    private static final long SAMPLE_NANOS = 2_000_000L;

    private final Path file;
    private final StringBuilder log = new StringBuilder();
    private final Map<Long, int[]> pcs = new HashMap<>();
    private volatile long parkedNanos;
    private volatile boolean sawConsole;
    private final StringBuilder consoleTail = new StringBuilder();
    private volatile boolean done;
    private volatile Hart hart0;
    private int lines;

    BootTrace(Path file) {
        this.file = file;
    }

    /** The process's trace when {@code domus.boot.trace} names a file (one per runner process: the first boot). */
    static final Optional<BootTrace> ACTIVE = fromSystemProperty();

    private static Optional<BootTrace> fromSystemProperty() {
        String f = System.getProperty("domus.boot.trace", "");
        return f.isEmpty() ? Optional.empty() : Optional.of(new BootTrace(Path.of(f)));
    }

    synchronized void mark(String phase) {
        log.append(String.format("event=phase phase=%s t_ms=%d%n", phase, System.currentTimeMillis() - JVM_START_MS));
    }

    /** vCPU batches run by hart 0 (written by its thread only). */
    volatile long batches;

    void parked(long nanos) {
        parkedNanos += nanos;
    }

    /** Console bytes: marks the first one and the ready marker line, logs each line with hart 0's instret. */
    synchronized void console(byte[] b, int off, int len) {
        if (done) {
            return;
        }
        if (!sawConsole) {
            sawConsole = true;
            mark("first-console-byte");
        }
        for (int i = 0; i < len; i++) {
            char c = (char) (b[off + i] & 0xff);
            if (c == '\n') {
                Hart h = hart0;
                if (h != null && lines++ < 400) {
                    // Console lines arrive at batch ends: instret here is exact to a batch (<= 8192 instructions).
                    log.append(String.format("event=line t_ms=%d instret=%d text=\"%s\"%n",
                            System.currentTimeMillis() - JVM_START_MS, h.instructionsRetired(),
                            consoleTail.toString().replace('"', '\'').strip()));
                }
                if (consoleTail.indexOf("DOMUS-GUEST-READY") >= 0) {
                    mark("ready-marker");
                    done = true;
                    write();
                    return;
                }
                consoleTail.setLength(0);
            } else if (consoleTail.length() < 200) {
                consoleTail.append(c);
            }
        }
    }

    /** Samples hart 0 until the ready marker: pc histogram and a timeline of instret and idle time. */
    void startSampler(Hart h, Thread vcpu) {
        hart0 = h;
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Thread.ofPlatform().daemon(true).name("boot-trace").start(() -> {
            long lastCpu = 0;
            long lastBatches = 0;
            long lastTimeline = System.nanoTime();
            long lastInstret = 0;
            long lastParked = 0;
            while (!done) {
                java.util.concurrent.locks.LockSupport.parkNanos(SAMPLE_NANOS);
                long pc = h.pc();
                synchronized (this) {
                    pcs.computeIfAbsent(pc, k -> new int[1])[0]++;
                }
                long now = System.nanoTime();
                if (now - lastTimeline >= 100_000_000L) {
                    long ir = h.instructionsRetired();
                    long pk = parkedNanos;
                    long cpu = Math.max(0, mx.getThreadCpuTime(vcpu.threadId()));
                    synchronized (this) {
                        log.append(String.format(
                                "event=tick t_ms=%d instret=%d d_instret=%d d_batches=%d parked_ms=%d vcpu_cpu_ms=%d"
                                        + " mips_cpu=%.1f%n",
                                System.currentTimeMillis() - JVM_START_MS, ir, ir - lastInstret, batches - lastBatches,
                                (pk - lastParked) / 1_000_000, cpu / 1_000_000,
                                cpu == lastCpu ? 0.0 : (ir - lastInstret) * 1e3 / (cpu - lastCpu)));
                    }
                    lastCpu = cpu;
                    lastBatches = batches;
                    lastTimeline = now;
                    lastInstret = ir;
                    lastParked = pk;
                }
            }
        });
    }

    private synchronized void write() {
        try (PrintStream out = new PrintStream(Files.newOutputStream(file))) {
            out.print(log);
            out.printf("event=process cpu_ms=%d%n", ((com.sun.management.OperatingSystemMXBean)
                    ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1_000_000);
            // Every host thread's CPU time (compiler and GC threads included), from /proc.
            try (var tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path t : (Iterable<Path>) tasks::iterator) {
                    String stat = Files.readString(t.resolve("stat"));
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    if (ticks > 0) {
                        out.printf("event=thread name=\"%s\" cpu_ms=%d%n", comm, ticks * 10);
                    }
                }
            } catch (IOException | RuntimeException e) {
                out.println("event=thread error=\"" + e + "\"");
            }
            pcs.entrySet().stream().sorted((a, b) -> b.getValue()[0] - a.getValue()[0]).limit(400)
                    .forEach(e -> out.printf("event=pc pc=%x n=%d%n", e.getKey(), e.getValue()[0]));
        } catch (IOException e) {
            System.err.println("boot trace: cannot write " + file + ": " + e.getMessage());
        }
    }
}
