// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A hostile guest: random bytes executed in every privilege mode with random register contents. Whatever happens
 * must happen inside the guest (traps, register and memory changes); no host exception may escape the engine.
 */
class GarbageExecutionTest {
    @Test
    void randomInstructionStreamsNeverThrowIntoTheHost() {
        Random rnd = new Random(7);
        long traps = 0;
        for (int round = 0; round < 400; round++) {
            CpuRig rig = new CpuRig();
            Hart h = rig.h;
            for (int i = 0; i < 4096; i += 4) {
                rig.mem.storeInt(i, rnd.nextInt());
            }
            for (int r = 1; r < 32; r++) {
                h.x[r] = switch (rnd.nextInt(4)) {
                    case 0 -> CpuRig.RAM + rnd.nextInt(1 << 20);
                    case 1 -> rnd.nextLong();
                    case 2 -> rnd.nextInt(64) - 32;
                    default -> 0x1000_0000L + rnd.nextInt(4096);
                };
                h.f[r] = rnd.nextLong();
            }
            h.priv = new int[] {Hart.PRIV_U, Hart.PRIV_S, Hart.PRIV_M}[rnd.nextInt(3)];
            h.satp = rnd.nextBoolean() ? 0 : (8L << 60) | (CpuRig.RAM >>> 12) + rnd.nextInt(256);
            h.mtvec = CpuRig.RAM + (rnd.nextInt(1024) << 2);
            h.stvec = CpuRig.RAM + (rnd.nextInt(1024) << 2);
            h.medeleg = rnd.nextLong();
            h.mmuModeChanged();
            h.pc = CpuRig.RAM + (rnd.nextInt(1024) << 2);
            for (int step = 0; step < 2000; step++) {
                h.mcause = -1;
                h.scause = -1;
                rig.engine.execute(h, 1);
                if (h.mcause != -1 || h.scause != -1) {
                    traps++;
                }
                assertThat(h.x[0]).isZero();
                assertThat(h.priv).isIn(Hart.PRIV_U, Hart.PRIV_S, Hart.PRIV_M);
                if (h.waitingForInterrupt()) {
                    h.clearWaitingForInterrupt();
                }
            }
        }
        assertThat(traps).as("garbage must trap inside the guest").isGreaterThan(1000);
    }
}
