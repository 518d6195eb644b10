// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import dev.domus.xen.bus.Bus;
import dev.domus.xen.devices.irq.MachineClock;
import dev.domus.xen.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interpreter's pre-decoded pages ({@link DecodeCache}): code that changes after it was decoded is executed in
 * its new form whoever wrote it (the executing hart without fence.i, another hart, a device or the loader), and
 * instructions at page ends (compressed, or 32-bit halves on two pages) decode right.
 */
class DecodeCacheTest {
    private static final long RAM = 0x8000_0000L;
    private final GuestMemory mem = GuestMemory.allocate(RAM, 8 << 20);
    private final Interpreter engine = new Interpreter();

    @AfterEach
    void close() {
        mem.close();
    }

    private Hart hart(int id) {
        Hart h = new Hart(id, mem, new Bus(), new MachineClock());
        h.reset(Hart.PRIV_M, RAM);
        return h;
    }

    private static int addi(int rd, int rs1, int imm) {
        return Rvc.iType(imm, rs1, 0, rd, 0x13);
    }

    private static int sw(int rs2, int rs1, int imm) {
        return Rvc.sType(imm, rs2, rs1, 2, 0x23);
    }

    private static int jal(int rd, int off) {
        return Rvc.jType(off, rd, 0x6f);
    }

    private static int jalr(int rd, int rs1) {
        return Rvc.iType(0, rs1, 0, rd, 0x67);
    }

    /** C.ADDI rd, imm (6-bit signed). */
    private static int cAddi(int rd, int imm) {
        return (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | 1;
    }

    private void put(long addr, int insn) {
        mem.storeInt(addr - RAM, insn);
    }

    private void run(Hart h, long pc, int n) {
        h.setPc(pc);
        assertEquals(n, engine.execute(h, n));
    }

    @Test
    void ownStoreIntoTheExecutingPageIsSeenWithoutFenceI() {
        Hart h = hart(0);
        put(RAM, sw(6, 7, 0));
        put(RAM + 4, addi(0, 0, 0));
        put(RAM + 8, addi(10, 0, 1));
        run(h, RAM + 8, 1);
        assertEquals(1, h.reg(10), "decoded once");
        h.setReg(6, addi(10, 0, 2));
        h.setReg(7, RAM + 8);
        run(h, RAM, 3); // one batch: store, nop, the changed instruction
        assertEquals(2, h.reg(10));
        assertEquals(RAM + 12, h.pc());
    }

    @Test
    void storeByAnotherHartIsSeenAtTheNextBatch() {
        Hart h0 = hart(0);
        Hart h1 = hart(1);
        put(RAM + 0x100, addi(10, 0, 1));
        run(h0, RAM + 0x100, 1);
        assertEquals(1, h0.reg(10));
        // hart 1 rewrites hart 0's code with its own store instruction
        put(RAM + 0x2000, sw(6, 7, 0));
        h1.setReg(6, addi(10, 0, 3));
        h1.setReg(7, RAM + 0x100);
        run(h1, RAM + 0x2000, 1);
        run(h0, RAM + 0x100, 1);
        assertEquals(3, h0.reg(10));
    }

    @Test
    void deviceAndLoaderWritesAreSeen() {
        Hart h = hart(0);
        put(RAM + 0x3000, addi(10, 0, 1));
        run(h, RAM + 0x3000, 1);
        assertEquals(1, h.reg(10));
        // loader path (GuestMemory.write)
        int insn = addi(10, 0, 4);
        mem.write(0x3000, new byte[] {(byte) insn, (byte) (insn >> 8), (byte) (insn >> 16), (byte) (insn >> 24)}, 0, 4);
        run(h, RAM + 0x3000, 1);
        assertEquals(4, h.reg(10));
        // DMA path: raw segment write + deviceWrote
        mem.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 0x3000, addi(10, 0, 5));
        mem.deviceWrote(0x3000, 4);
        run(h, RAM + 0x3000, 1);
        assertEquals(5, h.reg(10));
    }

    @Test
    void fenceIAfterAStoreIntoAnotherPageOfCode() {
        Hart h = hart(0);
        // page 1: the callee, decoded first; page 0: store into it, fence.i, jump to it
        put(RAM + 0x1000, addi(10, 0, 1));
        put(RAM + 0x1004, jal(0, 0x20 - 0x1004)); // back to RAM + 0x20
        run(h, RAM + 0x1000, 2);
        assertEquals(1, h.reg(10));
        assertEquals(RAM + 0x20, h.pc());
        put(RAM, sw(6, 7, 0));
        put(RAM + 4, 0x0000100f); // fence.i
        put(RAM + 8, jal(0, 0x1000 - 8));
        put(RAM + 0x20, addi(11, 0, 9));
        h.setReg(6, addi(10, 0, 6));
        h.setReg(7, RAM + 0x1000);
        run(h, RAM, 6);
        assertEquals(6, h.reg(10));
        assertEquals(9, h.reg(11));
    }

    @Test
    void compressedInstructionAtThePageEnd() {
        Hart h = hart(0);
        mem.storeShort(0xffe, (short) cAddi(10, 5));
        put(RAM + 0x1000, addi(11, 0, 7));
        run(h, RAM + 0xffe, 2);
        assertEquals(5, h.reg(10));
        assertEquals(7, h.reg(11));
        assertEquals(RAM + 0x1004, h.pc());
        run(h, RAM + 0xffe, 1);
        assertEquals(10, h.reg(10), "the cached compressed slot executes again");
    }

    @Test
    void instructionCrossingAPageIsFetchedWholeEveryTime() {
        Hart h = hart(0);
        int insn = addi(10, 0, 1);
        mem.storeShort(0x1ffe, (short) insn);
        mem.storeShort(0x2000, (short) (insn >>> 16));
        run(h, RAM + 0x1ffe, 1);
        assertEquals(1, h.reg(10));
        assertEquals(RAM + 0x2002, h.pc());
        // change only the upper half, on the next page: the crossing instruction is never served stale
        int changed = addi(10, 0, 0x7ff);
        mem.storeShort(0x2000, (short) (changed >>> 16));
        run(h, RAM + 0x1ffe, 1);
        assertEquals(0x7ff, h.reg(10));
    }

    @Test
    void moreCodePagesThanTheCacheHoldsStayCorrect() {
        Hart h = hart(0);
        int pages = DecodeCache.PAGES + 10;
        for (int i = 0; i < pages; i++) {
            long p = RAM + 0x10_0000 + (long) i * 4096;
            put(p, addi(10, 10, 1));
            put(p + 4, jal(0, 4096 - 4)); // to the next page
        }
        run(h, RAM + 0x10_0000, 2 * pages);
        assertEquals(pages, h.reg(10));
        assertTrue(h.decodeCache.flushes >= 1, "the cache was full and started again");
        put(RAM + 0x10_0000 + 3 * 4096, addi(10, 10, 100));
        run(h, RAM + 0x10_0000, 2 * pages);
        assertEquals(2L * pages + 99, h.reg(10));
    }

    @Test
    void misalignedPcStillTraps() {
        Hart h = hart(0);
        put(RAM, addi(10, 0, 1));
        run(h, RAM, 1); // page attached
        h.mtvec = RAM + 0x800;
        put(RAM + 0x800, addi(12, 0, 1));
        h.setPc(RAM + 1);
        engine.execute(h, 1);
        assertEquals(Causes.INSN_MISALIGNED, h.mcause);
        assertEquals(RAM + 1, h.mtval);
        assertEquals(RAM + 0x800, h.pc());
    }
}
