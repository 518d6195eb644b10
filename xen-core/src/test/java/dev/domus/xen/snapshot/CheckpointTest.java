// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineInfo;
import dev.domus.xen.memory.GuestMemory;
import dev.domus.xen.testing.RamMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-copy checkpoint against a fake machine (only here) whose "vCPU" thread keeps storing into RAM (through
 * {@link GuestMemory}, so the dirty log sees it) until paused: the snapshot must equal RAM exactly as it was in the
 * pause, whatever was copied before.
 */
class CheckpointTest {
    private static final long BASE = 0x8000_0000L;
    private static final int MIB = 16;

    @TempDir
    Path dir;
    private GuestMemory ram;
    private BusyMachine machine;

    @BeforeEach
    void setUp() {
        ram = GuestMemory.allocate(BASE, (long) MIB << 20);
        for (long p = 0; p < 512; p++) {
            ram.storeLong(p * 4096, p + 1); // non-zero pages the pre-copy finds
        }
        machine = new BusyMachine(ram);
        machine.start();
    }

    @AfterEach
    void tearDown() {
        machine.close();
        ram.close();
    }

    @Test
    void snapshotOfABusyMachineIsRamAtThePauseAndTheMachineRunsOn() throws Exception {
        // Let the writer dirty a good part of RAM before the checkpoint starts.
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (machine.stores.get() < 20_000 && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        Path file = dir.resolve("cp.snap");
        Snapshots.Checkpointed c = Snapshots.checkpoint(file, machine, "{}".getBytes());
        assertThat(machine.state()).isEqualTo(Machine.State.RUNNING);
        assertThat(ram.dirtyLog().enabled()).as("logging off again").isFalse();
        assertThat(c.bytes()).isEqualTo(Files.size(file));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).as("no scratch image left")
                    .containsExactly("cp.snap");
        }
        SnapshotImage img = Snapshots.read(file);
        // The fake's captureState saved a copy of RAM taken while it was paused: the file must match it.
        try (GuestMemory copy = GuestMemory.allocate(BASE, (long) MIB << 20)) {
            img.loadRam(copy);
            assertThat(copy.segment().mismatch(machine.atPause.segment())).as("RAM in the file = RAM in the pause")
                    .isEqualTo(-1);
        }
        long before = machine.stores.get();
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (machine.stores.get() == before && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        assertThat(machine.stores.get()).as("the machine runs on").isGreaterThan(before);
        assertThat(machine.pauses.get()).as("one pause to switch logging on, one for the last pages").isEqualTo(2);
    }

    @Test
    void aFailedCheckpointLeavesTheMachineRunningAndNoFiles() throws Exception {
        Path file = dir.resolve("missing-dir").resolve("cp.snap");
        assertThatThrownBy(() -> Snapshots.checkpoint(file, machine, new byte[0]))
                .isInstanceOf(SnapshotException.class).hasMessageContaining("cp.snap");
        assertThat(machine.state()).isEqualTo(Machine.State.RUNNING);
        assertThat(ram.dirtyLog().enabled()).isFalse();
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    /** A machine whose one "vCPU" stores counters at pseudo-random pages while running. */
    private static final class BusyMachine extends RamMachine {
        private final Object lock = new Object();
        private final AtomicLong stores = new AtomicLong();
        private final AtomicInteger pauses = new AtomicInteger();
        private volatile State state = State.CREATED;
        private boolean parked;
        private volatile boolean stop;
        private Thread vcpu;
        private GuestMemory atPause;

        BusyMachine(GuestMemory ram) {
            super(ram);
        }

        @Override
        public void start() {
            state = State.RUNNING;
            vcpu = Thread.ofPlatform().daemon().start(this::run);
        }

        private void run() {
            long x = 88172645463325252L;
            long pages = ram.size() / 4096;
            while (!stop) {
                synchronized (lock) {
                    while (state == State.PAUSED && !stop) {
                        parked = true;
                        lock.notifyAll();
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    parked = false;
                }
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                long page = Math.floorMod(x, pages / 2); // the lower half: dense enough to keep rounds busy
                ram.storeLong(page * 4096 + 8 * Math.floorMod(x >>> 20, 512), x);
                stores.incrementAndGet();
            }
        }

        @Override
        public void pause() {
            synchronized (lock) {
                if (state != State.RUNNING) {
                    return;
                }
                state = State.PAUSED;
                pauses.incrementAndGet();
                while (!parked) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }

        @Override
        public void resume() {
            synchronized (lock) {
                state = State.RUNNING;
                lock.notifyAll();
            }
        }

        @Override
        public State state() {
            return state;
        }

        @Override
        public MachineState captureState(byte[] domain) {
            if (state != State.PAUSED) {
                throw new IllegalStateException("capture while running");
            }
            if (atPause != null) {
                atPause.close();
            }
            atPause = GuestMemory.allocate(BASE, ram.size());
            atPause.segment().copyFrom(ram.segment());
            return SnapshotFormatTest.sampleState(1);
        }

        @Override
        public void destroy() {
            stop = true;
            resume();
        }

        @Override
        public MachineInfo info() {
            return new MachineInfo(1, MIB, stores.get(), 0, 0);
        }

        @Override
        public void close() {
            destroy();
            try {
                vcpu.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (atPause != null) {
                atPause.close();
            }
        }
    }
}
