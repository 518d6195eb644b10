// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineInfo;
import dev.domus.xen.cpu.HartState;
import dev.domus.xen.devices.irq.ClintState;
import dev.domus.xen.devices.irq.Plic;
import dev.domus.xen.devices.irq.PlicState;
import dev.domus.xen.devices.rtc.GoldfishRtcState;
import dev.domus.xen.devices.uart.Uart16550State;
import dev.domus.xen.devices.virtio.transport.QueueState;
import dev.domus.xen.devices.virtio.transport.VirtioMmioState;
import dev.domus.xen.snapshot.VirtioSlotState;
import dev.domus.xen.memory.GuestMemory;
import dev.domus.xen.testing.RamMachine;
import dev.domus.xen.snapshot.MachineState;
import dev.domus.xen.snapshot.VcpuState;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The pipelined handshake of {@link MigrationSource}: the full RAM pass starts before the target answered HELLO, so
 * a refusal arrives while pages are on their way. Against a scripted target that reads the HELLO, answers ERROR
 * and closes: the source must report the refusal itself (whether it notices at a failed page write or at the full
 * pass's sync) and leave its machine running with dirty logging off.
 */
class MigrationSourceHandshakeTest {
    private static final long BASE = 0x8000_0000L;
    private static final String REFUSAL = "domain 'pipelined' already runs on the target";

    @Test
    void aRefusalDuringABigFullPassIsReportedAndTheGuestRunsOn() throws Exception {
        // 32 MiB of non-zero pages: more than the loopback socket buffers hold, so page writes fail on the reset.
        refusedWith(32, 8192);
    }

    @Test
    void aRefusalAfterASmallFullPassIsReadAtItsSync() throws Exception {
        // A few pages fit the socket buffers: the source only learns of the refusal when it waits for the sync.
        refusedWith(16, 4);
    }

    private static void refusedWith(int mib, int nonZeroPages) throws Exception {
        try (GuestMemory ram = GuestMemory.allocate(BASE, (long) mib << 20);
             ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            for (long p = 0; p < nonZeroPages; p++) {
                ram.storeLong(p * 4096, p + 1);
            }
            IdleMachine machine = new IdleMachine(ram, mib);
            CompletableFuture<Integer> target = CompletableFuture.supplyAsync(() -> refuseFirstHello(server));
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
            assertThatThrownBy(() -> MigrationSource.migrate(machine, machine.config, "{}".getBytes(), at,
                    MigrationSource.Options.DEFAULT, p -> { }, new AtomicBoolean()))
                    .isInstanceOf(MigrationException.class)
                    .hasMessageContaining("target refused: " + REFUSAL)
                    .satisfies(e -> assertThat(((MigrationException) e).inDoubt()).isFalse());
            assertThat(target.get(30, TimeUnit.SECONDS)).as("the target read a HELLO").isEqualTo(Stream.HELLO);
            assertThat(machine.state()).isEqualTo(Machine.State.RUNNING);
            assertThat(machine.pauses).as("two brief pauses: logging switched on, then off again").isEqualTo(2);
            assertThat(ram.dirtyLog().enabled()).as("logging off again").isFalse();
        }
    }

    /** Reads one frame (the HELLO), answers ERROR and closes without reading further; returns the frame type. */
    private static int refuseFirstHello(ServerSocket server) {
        try (Socket s = server.accept()) {
            s.setSoTimeout(30_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            int type = in.readUnsignedByte();
            byte[] payload = new byte[in.readInt()];
            in.readFully(payload);
            in.readInt(); // checksum
            byte[] why = REFUSAL.getBytes(StandardCharsets.UTF_8);
            CRC32C crc = new CRC32C();
            crc.update(Stream.ERROR);
            crc.update(why.length >>> 24);
            crc.update(why.length >>> 16);
            crc.update(why.length >>> 8);
            crc.update(why.length);
            crc.update(why);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeByte(Stream.ERROR);
            out.writeInt(why.length);
            out.write(why);
            out.writeInt((int) crc.getValue());
            out.flush();
            return type;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A machine without vCPU threads: pausing and resuming only flip its state. */
    private static final class IdleMachine extends RamMachine {
        private final MachineConfig config;
        private volatile State state = State.RUNNING;
        private volatile int pauses;

        IdleMachine(GuestMemory ram, int mib) {
            super(ram);
            this.config = new MachineConfig("pipelined", mib, 1, Path.of("/k/Image"), Optional.empty(), "", 0,
                    List.of(), List.of());
        }

        @Override
        public void start() {
        }

        @Override
        public synchronized void pause() {
            if (state == State.RUNNING) {
                state = State.PAUSED;
                pauses++;
            }
        }

        @Override
        public synchronized void resume() {
            state = State.RUNNING;
        }

        @Override
        public State state() {
            return state;
        }

        @Override
        public MachineState captureState(byte[] domain) {
            long[] csrs = new long[HartState.CSR_NAMES.size()];
            VcpuState v = new VcpuState(new HartState(0x8020_0000L, 1, new long[32], new long[32], 0, 0, csrs,
                    new long[64], new long[8], 0, false, false), 0, 0, 0);
            PlicState plic = new PlicState(new int[Plic.SOURCES + 1], 0, 0, new long[2], new int[2]);
            Uart16550State uart = new Uart16550State(0, 3, 0, 0, 0, 1, false, 0, false, new byte[0]);
            QueueState idle = new QueueState(0, 0, 0, 0, false, 0, 0);
            return new MachineState(config, domain, 1_000L, List.of(v), new ClintState(new int[1], new long[1]),
                    plic, List.of(uart, uart), new GoldfishRtcState(0L, 0, false, false, false, 0), List.of(
                            new VirtioSlotState(3, new VirtioMmioState(0, 1L << 32, 0, 0, List.of(idle, idle)),
                                    new byte[0]),
                            new VirtioSlotState(4, new VirtioMmioState(0, 1L << 32, 0, 0, List.of(idle)),
                                    new byte[0])));
        }

        @Override
        public void destroy() {
        }

        @Override
        public MachineInfo info() {
            return new MachineInfo(1, config.memoryMiB(), 0, 0, 0);
        }
    }
}
