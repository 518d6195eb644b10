// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import dev.domus.xen.api.CpuEngineKind;
import dev.domus.xen.bus.Bus;
import dev.domus.xen.cpu.jit.JitEngine;
import dev.domus.xen.devices.irq.MachineClock;
import dev.domus.xen.memory.GuestMemory;

/** A single hart on 1 MiB of RAM at 0x8000_0000, for executing instructions one by one in tests. */
final class CpuRig {
    static final long RAM = 0x8000_0000L;
    final GuestMemory mem = GuestMemory.allocate(RAM, 1 << 20);
    final Hart h = new Hart(0, mem, new Bus(), new MachineClock());
    /** The engine under test: {@code -Ddomus.cpu.engine=jit} runs every CPU suite on the JIT (translating at once). */
    final CpuEngine engine = engine();

    CpuRig() {
        h.reset(Hart.PRIV_M, RAM);
        h.mstatus |= 1L << 13; // FS = initial
    }

    static CpuEngine engine() {
        // Explicit property, not the machine default: the plain surefire run covers the interpreter.
        return "jit".equals(System.getProperty(CpuEngineKind.PROPERTY)) ? new JitEngine(0) : new Interpreter();
    }

    /** Places {@code insn} (32-bit, or 16-bit when its low bits are not 11) at pc and executes it. */
    CpuRig exec(int insn) {
        long off = h.pc - RAM;
        if ((insn & 3) == 3) {
            mem.storeInt(off, insn);
        } else {
            mem.storeShort(off, (short) insn);
        }
        h.fetchVpage = -1;
        engine.execute(h, 1);
        return this;
    }

    CpuRig x(int r, long v) {
        h.x[r] = v;
        return this;
    }

    long x(int r) {
        return h.x[r];
    }

    static int r(int f7, int rs2, int rs1, int f3, int rd, int opc) {
        return Rvc.rType(f7, rs2, rs1, f3, rd, opc);
    }

    static int i(int imm, int rs1, int f3, int rd, int opc) {
        return Rvc.iType(imm, rs1, f3, rd, opc);
    }

    static int s(int imm, int rs2, int rs1, int f3, int opc) {
        return Rvc.sType(imm, rs2, rs1, f3, opc);
    }
}
