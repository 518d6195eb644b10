// SPDX-License-Identifier: Apache-2.0
// Micro benchmark: guest instructions per second of the interpreter and the JIT on two loops, in one process.
//   java --enable-native-access=ALL-UNNAMED -cp xen-core/target/xen-core.jar xen-core/bench/CpuMips.java [seconds]
// "simple" is an ALU/load/store loop; "sha-like" is the shape of a SHA-256 round (32-bit rotates, xors, adds,
// loads and stores of a message schedule); "two-region" is a loop split over two regions that jump to each other,
// run by the JIT without and with region chaining. MIPS are per CPU second of the benchmark thread (a shared box
// gives it a fraction of a core). Figures are printed, never asserted.
import dev.domus.xen.bus.Bus;
import dev.domus.xen.cpu.CpuEngine;
import dev.domus.xen.cpu.Hart;
import dev.domus.xen.cpu.Interpreter;
import dev.domus.xen.cpu.jit.JitEngine;
import dev.domus.xen.devices.irq.MachineClock;
import dev.domus.xen.memory.GuestMemory;

public final class CpuMips {
    private static final long RAM = 0x8000_0000L;

    private static int i(int imm, int rs1, int f3, int rd, int opc) {
        return ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
    }

    private static int r(int f7, int rs2, int rs1, int f3, int rd, int opc) {
        return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
    }

    private static int s(int imm, int rs2, int rs1, int f3) {
        return (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23;
    }

    private static int bne(int rs1, int rs2, int off) {
        return (((off >> 12) & 1) << 31) | (((off >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (1 << 12)
                | (((off >> 1) & 0xf) << 8) | (((off >> 11) & 1) << 7) | 0x63;
    }

    static int[] simple() {
        // a0=counter a1=acc a2=data pointer a3 tmp
        return new int[] {
            i(1, 10, 0, 10, 0x13),            // addi a0, a0, 1
            r(0, 10, 11, 0, 11, 0x33),        // add a1, a1, a0
            i(0, 12, 3, 13, 0x03),            // ld a3, 0(a2)
            r(0, 11, 13, 4, 13, 0x33),        // xor a3, a3, a1
            s(0, 13, 12, 3),                  // sd a3, 0(a2)
            i(8, 12, 0, 12, 0x13),            // addi a2, a2, 8
            i(0x7f8, 12, 7, 14, 0x13),        // andi a4, a2, 0x7f8
            r(0, 14, 15, 0, 12, 0x33),        // add a2, a5(base), a4
            bne(0, 0, 0) | 0,                 // placeholder replaced below
        };
    }

    static int[] shaLike() {
        // a0 = pointer into W[], a2..a3 state, t0..t2 temps, a4 index, a5 = base, a6 = 0
        return new int[] {
            i(0, 10, 2, 5, 0x03),              // lw t0, 0(a0)
            i(7, 5, 5, 6, 0x1b),               // srliw t1, t0, 7
            i(25, 5, 1, 7, 0x1b),              // slliw t2, t0, 25
            r(0, 7, 6, 6, 6, 0x33),            // or t1, t1, t2
            r(0, 6, 12, 4, 12, 0x33),          // xor a2, a2, t1
            r(0, 5, 12, 0, 12, 0x3b),          // addw a2, a2, t0
            i(17, 12, 5, 6, 0x1b),             // srliw t1, a2, 17
            i(15, 12, 1, 7, 0x1b),             // slliw t2, a2, 15
            r(0, 7, 6, 6, 6, 0x33),            // or t1, t1, t2
            r(0, 6, 13, 4, 13, 0x33),          // xor a3, a3, t1
            r(0, 12, 13, 0, 13, 0x3b),         // addw a3, a3, a2
            r(0, 13, 12, 7, 7, 0x33),          // and t2, a2, a3
            r(0, 7, 13, 0, 13, 0x3b),          // addw a3, a3, t2
            s(0, 13, 10, 2),                   // sw a3, 0(a0)
            i(4, 14, 0, 14, 0x13),             // addi a4, a4, 4
            i(0x3fc, 14, 7, 14, 0x13),         // andi a4, a4, 0x3fc
            r(0, 14, 15, 0, 10, 0x33),         // add a0, a5, a4
            0,                                 // bne placeholder
        };
    }

    /** Where {@link #mips} puts the loop when it runs it in S-mode under Sv39 (after a four-instruction prologue). */
    private static final long SV39_LOOP = 0x100;

    static double mips(CpuEngine e, int[] loop, double seconds) {
        return mips(e, loop, seconds, false);
    }

    /**
     * @param sv39 run the loop as a guest kernel does: in S-mode with Sv39 translation (one identity gigapage),
     *             where the JIT's loads and stores take the soft-TLB fast path; else in M-mode (no translation)
     */
    static double mips(CpuEngine e, int[] loop, double seconds, boolean sv39) {
        GuestMemory mem = GuestMemory.allocate(RAM, 1 << 20);
        Hart h = new Hart(0, mem, new Bus(), new MachineClock());
        loop[loop.length - 1] = bne(0, 16, -4 * (loop.length - 1)); // bne x0, a6(=1), loop: always taken
        long at = sv39 ? SV39_LOOP : 0;
        for (int k = 0; k < loop.length; k++) {
            mem.storeInt(at + 4L * k, loop[k]);
        }
        h.reset(Hart.PRIV_M, RAM);
        if (sv39) {
            long root = 0x80000;
            mem.storeLong(root + 8 * 2, ((0x8000_0000L >>> 12) << 10) | 0xcf); // VA = PA gigapage, RWX, A, D
            // csrw satp, t0; csrw mstatus, t1 (MPP = S); csrw mepc, t2; mret
            int[] prologue = {i(0x180, 5, 1, 0, 0x73), i(0x300, 6, 1, 0, 0x73), i(0x341, 7, 1, 0, 0x73), 0x30200073};
            for (int k = 0; k < prologue.length; k++) {
                mem.storeInt(4L * k, prologue[k]);
            }
            h.setReg(5, (8L << 60) | ((RAM + root) >>> 12));
            h.setReg(6, 1L << 11);
            h.setReg(7, RAM + SV39_LOOP);
        }
        h.setReg(12, RAM + 0x10000);
        h.setReg(15, RAM + 0x10000);
        h.setReg(10, RAM + 0x10000);
        h.setReg(16, 1);
        return measure(e, h, seconds);
    }

    private static int jal(int off) {
        return (((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20)
                | (((off >> 12) & 0xff) << 12) | 0x6f;
    }

    /**
     * Two regions on neighbouring pages that jump to each other (a loop body split by a jump, as around a call or
     * an if/else tail): every iteration crosses between regions twice, through the dispatcher or chained.
     */
    static double pingPongMips(CpuEngine e, double seconds) {
        GuestMemory mem = GuestMemory.allocate(RAM, 1 << 20);
        Hart h = new Hart(0, mem, new Bus(), new MachineClock());
        long a = 0xf00;
        long b = 0x1100;
        int[] ra = {i(1, 10, 0, 10, 0x13), r(0, 10, 11, 0, 11, 0x33), i(0, 12, 3, 13, 0x03),
            r(0, 11, 13, 4, 13, 0x33), jal((int) (b - (a + 16)))};
        int[] rb = {s(0, 13, 12, 3), i(8, 12, 0, 12, 0x13), i(0x7f8, 12, 7, 14, 0x13), r(0, 14, 15, 0, 12, 0x33),
            bne(0, 16, (int) (a - (b + 16)))};
        for (int k = 0; k < ra.length; k++) {
            mem.storeInt(a + 4L * k, ra[k]);
            mem.storeInt(b + 4L * k, rb[k]);
        }
        h.reset(Hart.PRIV_M, RAM + a);
        h.setReg(12, RAM + 0x10000);
        h.setReg(15, RAM + 0x10000);
        h.setReg(16, 1);
        return measure(e, h, seconds);
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static double measure(CpuEngine e, Hart h, double seconds) {
        long warm = System.nanoTime() + (long) (seconds * 0.3e9);
        while (System.nanoTime() < warm) {
            e.execute(h, 8192);
        }
        // Per CPU second of this thread, not per wall second: on a shared box the thread gets a fraction of a core.
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long n = 0;
        long c0 = mx.getCurrentThreadCpuTime();
        long end = c0 + (long) (seconds * 1e9);
        long c;
        do {
            for (int k = 0; k < 64; k++) {
                n += e.execute(h, 8192);
            }
            c = mx.getCurrentThreadCpuTime();
        } while (c < end);
        return n / ((c - c0) / 1e3);
    }

    public static void main(String[] args) {
        double sec = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        System.out.printf("%-10s %14s %14s %8s%n", "loop", "interpreter", "jit", "ratio");
        for (String name : new String[] {"simple", "sha-like"}) {
            for (boolean sv39 : new boolean[] {false, true}) {
                double a = mips(new Interpreter(), name.equals("simple") ? simple() : shaLike(), sec, sv39);
                double b = mips(new JitEngine(), name.equals("simple") ? simple() : shaLike(), sec, sv39);
                System.out.printf("%-10s %10.1f MIPS %10.1f MIPS %8.2f%n", name + (sv39 ? "/S" : "/M"), a, b, b / a);
            }
        }
        // Region chaining A/B in one process: the same two-region loop with every exit through the dispatcher
        // and with chaining.
        double off = pingPongMips(new JitEngine(16, false, false), sec);
        double on = pingPongMips(new JitEngine(16, false, true), sec);
        System.out.printf("%-10s %10.1f MIPS (jit, no chaining) %10.1f MIPS (jit, chained) %8.2f (MIPS per vCPU-thread CPU second) | load %s%n",
                "two-region", off, on, on / off, loadAverage());
    }
}
