// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.bus.Bus;
import dev.domus.xen.cpu.jit.JitEngine;
import dev.domus.xen.devices.irq.IrqLine;
import dev.domus.xen.devices.irq.MachineClock;
import dev.domus.xen.devices.uart.Uart16550Device;
import dev.domus.xen.memory.GuestMemory;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The JIT's inlined load/store fast path (soft-TLB check in generated code, {@code cpu.jit.JitMem}) against the
 * interpreter, in S-mode under Sv39: the fast path carries the accesses of a warm loop, and everything it must
 * leave to the hart's full path stays exact: A/D updates, permission faults (SUM and MXR changed by CSR writes
 * inside a region), page crossing, misaligned accesses, MMIO, stores into translated code, dirty logging, and TLB
 * changes by sfence.vma and satp writes.
 */
class JitMemoryTest {
    private static final long RAM = CpuRig.RAM;
    private static final int SIZE = 1 << 20;
    private static final long ROOT = RAM + 0x10000;
    private static final long L1 = RAM + 0x11000;
    private static final long L0 = RAM + 0x12000;
    private static final long ROOT2 = RAM + 0x13000;
    private static final long L0B = RAM + 0x14000;
    /** Physical data pages D0.. (4 KiB each). */
    private static final long DATA = RAM + 0x20000;
    private static final long UART = 0x1000_0000L;
    /** S-mode trap handler: counts traps, sums scause, xors stval, skips the faulting instruction. */
    private static final long STVEC = RAM + 0x6000;
    private static final long MTVEC = RAM + 0x7000;
    private static final int V = 1;
    private static final int R = 2;
    private static final int W = 4;
    private static final int X = 8;
    private static final int U = 16;
    private static final int A = 64;
    private static final int D = 128;
    private static final int SSTATUS = 0x100;
    private static final int SEPC = 0x141;
    private static final int SCAUSE = 0x142;
    private static final int STVAL = 0x143;
    private static final int SATP = 0x180;
    private static final long SUM = 1L << 18;
    private static final long MXR = 1L << 19;

    // ---- a tiny assembler (all 32-bit encodings, so a handler may skip an instruction with sepc + 4) ----
    private static int addi(int rd, int rs1, int imm) { return Rvc.iType(imm, rs1, 0, rd, 0x13); }

    private static int load(int f3, int rd, int rs1, int imm) { return Rvc.iType(imm, rs1, f3, rd, 0x03); }

    private static int store(int f3, int rs2, int rs1, int imm) { return Rvc.sType(imm, rs2, rs1, f3, 0x23); }

    private static int lb(int rd, int rs1, int imm) { return load(0, rd, rs1, imm); }

    private static int lh(int rd, int rs1, int imm) { return load(1, rd, rs1, imm); }

    private static int lw(int rd, int rs1, int imm) { return load(2, rd, rs1, imm); }

    private static int ld(int rd, int rs1, int imm) { return load(3, rd, rs1, imm); }

    private static int lbu(int rd, int rs1, int imm) { return load(4, rd, rs1, imm); }

    private static int lhu(int rd, int rs1, int imm) { return load(5, rd, rs1, imm); }

    private static int lwu(int rd, int rs1, int imm) { return load(6, rd, rs1, imm); }

    private static int sb(int rs2, int rs1, int imm) { return store(0, rs2, rs1, imm); }

    private static int sh(int rs2, int rs1, int imm) { return store(1, rs2, rs1, imm); }

    private static int sw(int rs2, int rs1, int imm) { return store(2, rs2, rs1, imm); }

    private static int sd(int rs2, int rs1, int imm) { return store(3, rs2, rs1, imm); }

    private static int add(int rd, int rs1, int rs2) { return Rvc.rType(0, rs2, rs1, 0, rd, 0x33); }

    private static int xor(int rd, int rs1, int rs2) { return Rvc.rType(0, rs2, rs1, 4, rd, 0x33); }

    private static int bne(int rs1, int rs2, int off) { return Rvc.bType(off, rs2, rs1, 1, 0x63); }

    private static int jal(int rd, int off) { return Rvc.jType(off, rd, 0x6f); }

    private static int jalr(int rd, int rs1, int imm) { return Rvc.iType(imm, rs1, 0, rd, 0x67); }

    private static int csrrw(int rd, int csr, int rs1) { return Rvc.iType(csr, rs1, 1, rd, 0x73); }

    private static int csrrs(int rd, int csr, int rs1) { return Rvc.iType(csr, rs1, 2, rd, 0x73); }

    private static int csrrc(int rd, int csr, int rs1) { return Rvc.iType(csr, rs1, 3, rd, 0x73); }

    private static int sfenceVma() { return (0x09 << 25) | 0x73; }

    private static final int SRET = 0x10200073;
    private static final int ECALL = 0x00000073;

    /** One machine per engine, set up identically: S-mode, Sv39, the mappings below, a UART at {@link #UART}. */
    private static final class Machine {
        final GuestMemory mem = GuestMemory.allocate(RAM, SIZE);
        final Bus bus = new Bus();
        final Hart h;

        Machine() {
            bus.map(UART, new Uart16550Device("uart", IrqLine.NONE, b -> { }));
            h = new Hart(0, mem, bus, new MachineClock());
            h.reset(Hart.PRIV_M, RAM);
            h.mtvec = MTVEC;
            h.stvec = STVEC;
            // Page faults (12, 13, 15) go to the S-mode handler, which counts them and goes on.
            h.medeleg = (1L << 12) | (1L << 13) | (1L << 15);
            // ROOT[2]: gigapage identity map of RAM (code, page tables, data by physical address).
            pte(ROOT, 2, 0x8000_0000L, V | R | W | X | A | D);
            pte(ROOT, 0, L1, V);
            pte(L1, 0, L0, V);
            pte(L0, 1, page(0), V | R | W | A | D);     // VA 0x1000: D0
            pte(L0, 2, page(1), V | R | W | A | D);     // VA 0x2000: D1 (follows 0x1000: crossing)
            pte(L0, 3, page(2), V | R | A | D);         // VA 0x3000: read only
            pte(L0, 4, page(3), V | R | W);             // VA 0x4000: A and D clear (the walk sets them)
            pte(L0, 5, UART, V | R | W | A | D);        // VA 0x5000: the UART
            pte(L0, 6, page(4), V | R | W | U | A | D); // VA 0x6000: a user page
            pte(L0, 7, page(5), V | X | A);             // VA 0x7000: execute only
            pte(L0, 8, RAM + 0x1000, V | R | W | A | D); // VA 0x8000: data alias of the code page at RAM+0x1000
            // VA 0x9000 and up: unmapped. A second root maps VA 0x1000 to D2 instead (satp switch).
            pte(ROOT2, 2, 0x8000_0000L, V | R | W | X | A | D);
            pte(ROOT2, 0, L1 + 0x3000, V);
            pte(L1 + 0x3000, 0, L0B, V);
            pte(L0B, 1, page(2), V | R | W | A | D);
            Random r = new Random(42);
            for (int i = 0; i < 6 * 512; i++) {
                mem.storeLong(DATA - RAM + 8L * i, r.nextLong());
            }
            code(STVEC, csrrs(5, SEPC, 0), addi(5, 5, 4), csrrw(0, SEPC, 5), addi(20, 20, 1), csrrs(6, SCAUSE, 0),
                    add(21, 21, 6), csrrs(6, STVAL, 0), xor(22, 22, 6), SRET);
            code(MTVEC, jal(0, 0));
            h.satp = (8L << 60) | (ROOT >>> 12);
            h.priv = Hart.PRIV_S;
            h.mmuModeChanged();
            h.pc = RAM;
        }

        void pte(long table, int index, long pa, int flags) {
            mem.storeLong(table - RAM + 8L * index, ((pa >>> 12) << 10) | flags);
        }

        void code(long at, int... insns) {
            for (int i = 0; i < insns.length; i++) {
                mem.storeInt(at - RAM + 4L * i, insns[i]);
            }
        }
    }

    private static long page(int k) {
        return DATA + 0x1000L * k;
    }

    /** Runs exactly {@code steps} instructions in batches of 1..64, as the vCPU loop would cut them. */
    private static void run(CpuEngine e, Hart h, int steps, long seed) {
        Random batches = new Random(seed);
        int done = 0;
        while (done < steps) {
            int b = Math.min(steps - done, 1 + batches.nextInt(64));
            done += b;
            for (int left = b; left > 0; ) {
                int k = e.execute(h, left);
                left -= k;
                if (k == 0) {
                    break;
                }
            }
        }
    }

    /** Runs exactly {@code steps} instructions in batches of {@code batch} (long enough for every region here). */
    private static void runFixed(CpuEngine e, Hart h, int steps, int batch) {
        for (int done = 0; done < steps; ) {
            int k = e.execute(h, Math.min(batch, steps - done));
            assertThat(k).as("progress").isPositive();
            done += k;
        }
    }

    /**
     * Sets up both machines with {@code setup}, runs {@code steps} instructions on each engine and compares the
     * whole hart state and RAM; returns the JIT machine.
     */
    private static Machine compare(Consumer<Machine> setup, int steps) {
        Machine[] ms = {new Machine(), new Machine()};
        CpuEngine[] engines = {new Interpreter(), new JitEngine(0)};
        for (int k = 0; k < 2; k++) {
            setup.accept(ms[k]);
            run(engines[k], ms[k].h, steps, 7);
        }
        Hart a = ms[0].h;
        Hart b = ms[1].h;
        assertThat(JitEngine.translations(b)).as("the JIT translated code").isPositive();
        assertThat(b.x).as("x").isEqualTo(a.x);
        assertThat(b.pc).as("pc").isEqualTo(a.pc);
        assertThat(b.instret).as("instret").isEqualTo(a.instret);
        assertThat(b.priv).as("priv").isEqualTo(a.priv);
        assertThat(b.scause).as("scause").isEqualTo(a.scause);
        assertThat(b.sepc).as("sepc").isEqualTo(a.sepc);
        assertThat(b.stval).as("stval").isEqualTo(a.stval);
        assertThat(b.mcause).as("mcause").isEqualTo(a.mcause);
        assertThat(b.mstatus).as("mstatus").isEqualTo(a.mstatus);
        assertThat(ms[1].mem.segment().asByteBuffer()).as("memory (data and page tables with their A/D bits)")
                .isEqualTo(ms[0].mem.segment().asByteBuffer());
        return ms[1];
    }

    @Test
    void aWarmLoopOfEveryAccessSizeRunsOnTheFastPathAndMatchesTheInterpreter() {
        int iterations = 100;
        Machine jit = compare(m -> {
            m.code(RAM,
                    ld(5, 10, 0), addi(5, 5, 3), sd(5, 10, 8), lw(6, 10, 16), sw(6, 10, 20), lh(7, 10, 30),
                    sh(7, 10, 34), lb(8, 10, 37), sb(8, 10, 40), lbu(9, 10, 41), lhu(12, 10, 42), lwu(13, 10, 44),
                    ld(14, 10, 0x101), sd(14, 10, 0x203), lw(15, 10, 0x3ff), sh(15, 10, 0x4ff), // misaligned
                    add(16, 16, 5), add(16, 16, 9), add(16, 16, 14),
                    addi(10, 10, 8), addi(11, 11, -1), bne(11, 0, -4 * 21),
                    ECALL);
            m.h.x[10] = 0x1000;
            m.h.x[11] = iterations;
        }, iterations * 22 + 1 + 5);
        assertThat(jit.h.pc).as("the loop ended in the M-mode handler").isEqualTo(MTVEC);
        assertThat(jit.h.mcause).isEqualTo(Causes.ECALL_S);
        long accesses = 16L * iterations;
        assertThat(JitEngine.slowAccesses(jit.h)).as("full-path accesses out of " + accesses).isLessThan(8);
    }

    @Test
    void pageCrossingAndMisalignedAccessesTakeTheFullPathExactly() {
        Machine jit = compare(m -> {
            m.code(RAM,
                    lw(5, 10, -2),      // 0x1ffe: crosses 0x1000 -> 0x2000 (both mapped)
                    ld(6, 11, -4),      // 0x2ffc: crosses 0x2000 -> 0x3000 (read only: a load is fine)
                    sd(5, 11, -4),      // crosses into the read-only page: store fault, nothing written
                    sh(6, 10, -1),      // 0x1fff: crosses 0x1000 -> 0x2000, both halves written
                    ld(7, 10, -7),      // 0x1ff9: crossing, reads the bytes just written
                    lw(8, 12, -2),      // 0x3ffe: crosses 0x3000 -> 0x4000 (A clear: the walk sets it)
                    lhu(9, 13, -1),     // 0x6fff: from the user page (no SUM): fault on the first byte
                    ld(16, 10, -0x7f3), // 0x180d: misaligned inside one page
                    addi(14, 14, 1), addi(15, 15, -1), bne(15, 0, -4 * 10),
                    ECALL);
            m.h.x[10] = 0x2000;
            m.h.x[11] = 0x3000;
            m.h.x[12] = 0x4000;
            m.h.x[13] = 0x7000;
            m.h.x[15] = 3;
        }, 3 * 11 + 1 + 3 * 2 * 9 + 20);
        assertThat(jit.h.x[20]).as("traps taken: the store and the user-page load of every pass").isEqualTo(6);
        assertThat(jit.h.x[21]).as("sum of the causes").isEqualTo(3 * (Causes.STORE_PAGE_FAULT + Causes.LOAD_PAGE_FAULT));
    }

    @Test
    void permissionsFollowSumAndMxrChangedInsideTheRegionAndTheWalkSetsAccessedAndDirty() {
        Machine jit = compare(m -> {
            m.code(RAM,
                    sw(5, 12, 0),          // read-only page: store page fault
                    lw(6, 12, 8),          // fine
                    lw(7, 13, 0),          // A clear: the walk sets A
                    sw(7, 13, 16),         // D clear: the walk sets D
                    lw(8, 14, 0),          // user page with SUM (on at the start of every pass): fine
                    csrrc(0, SSTATUS, 17), // SUM off
                    lw(9, 14, 8),          // same TLB entry, now a load page fault
                    sw(9, 14, 8),          // and a store page fault
                    csrrs(0, SSTATUS, 17), // SUM on again
                    lw(28, 14, 16),        // fine
                    lw(23, 19, 0),         // execute-only page: load page fault
                    csrrs(0, SSTATUS, 18), // MXR on
                    lw(24, 19, 4),         // readable now
                    csrrc(0, SSTATUS, 18), // MXR off
                    lw(25, 19, 8),         // fault again
                    sd(5, 26, 0),          // unmapped: store page fault
                    ld(27, 26, 8),         // unmapped: load page fault
                    addi(15, 15, -1), bne(15, 0, -4 * 18),
                    ECALL);
            // SUM is on when the JIT first sees this hart, so its fast-path checks start out permissive for user
            // pages: they must follow every change of SUM.
            m.h.mstatus |= SUM;
            m.h.mmuModeChanged();
            m.h.x[5] = 0x1234_5678_9abc_def0L;
            m.h.x[12] = 0x3000;
            m.h.x[13] = 0x4000;
            m.h.x[14] = 0x6000;
            m.h.x[17] = SUM;
            m.h.x[18] = MXR;
            m.h.x[19] = 0x7000;
            m.h.x[26] = 0x9000;
            m.h.x[15] = 3;
        }, 3 * 19 + 1 + 3 * 7 * 9 + 20);
        assertThat(jit.h.x[20]).as("traps: 7 per pass").isEqualTo(21);
        long pte = jit.mem.loadLong(L0 - RAM + 8 * 4);
        assertThat(pte & (A | D)).as("A and D set by the walks").isEqualTo(A | D);
    }

    @Test
    void mmioThroughAMappedPageGoesToTheDevice() {
        Machine jit = compare(m -> {
            m.code(RAM,
                    sb(5, 10, 7), lbu(6, 10, 7), add(7, 7, 6), addi(5, 5, 3), // UART scratch register
                    lbu(8, 10, 5),                                          // line status
                    ld(9, 11, 0),                                           // RAM in the same loop
                    addi(15, 15, -1), bne(15, 0, -4 * 7),
                    ECALL);
            m.h.x[10] = 0x5000;
            m.h.x[11] = 0x1000;
            m.h.x[5] = 0x41;
            m.h.x[15] = 20;
        }, 20 * 8 + 1 + 5);
        assertThat(jit.h.x[6]).as("the scratch register read back").isEqualTo((0x41 + 19 * 3) & 0xff);
        assertThat(jit.h.x[7]).isEqualTo(20 * 0x41 + 3 * (19 * 20 / 2));
        // Passes the dispatcher interprets (a batch shorter than the region) do not count here.
        assertThat(JitEngine.slowAccesses(jit.h)).as("MMIO accesses took the full path").isPositive();
    }

    @Test
    void aStoreWithAWarmTlbEntryIntoTranslatedCodeInvalidatesIt() {
        int newInsn = addi(10, 10, 100);
        Machine jit = compare(m -> {
            m.code(RAM + 0x1000, addi(10, 10, 1), jalr(0, 1, 0)); // f at RAM+0x1000, also at data VA 0x8000
            m.code(RAM,
                    jal(1, 0x1000),     // call f: translated
                    sw(0, 11, 0x100),   // a store to the code page through VA 0x8000 (fills the TLB entry)
                    jal(1, 0x1000 - 8), // call f again (retranslated)
                    sw(13, 11, 0),      // rewrite f's first instruction: TLB hit, D set, but a code page
                    jal(1, 0x1000 - 16), // call f: must run the new instruction
                    ECALL);
            m.h.x[11] = 0x8000;
            m.h.x[13] = newInsn & 0xffffffffL;
        }, 3 + 1 + 3 + 1 + 3 + 1 + 5);
        assertThat(jit.h.x[10]).as("1 + 1 + 100: the last call ran the rewritten code").isEqualTo(102);
    }

    @Test
    void aStoreThroughAFastEntryTakenBeforeThePageHeldCodeStillInvalidatesTheTranslation() {
        // The store entry of the data alias is warm before any code on that page ran (so the page was plain data
        // when the fast path took it); the page then gets translated code, and a store through the same entry
        // must still see that and take the full path (code-generation bump).
        int newInsn = addi(10, 10, 100);
        Machine jit = compare(m -> {
            m.code(RAM + 0x1000, addi(10, 10, 1), jalr(0, 1, 0)); // f at RAM+0x1000, also at data VA 0x8000
            m.code(RAM,
                    sw(0, 11, 0x100),    // TLB miss: the walk fills the hart's TLB
                    sw(0, 11, 0x104),    // TLB hit on a page without code: the fast entry
                    jal(1, 0x1000 - 8),  // call f: translated, the page now holds code
                    sw(13, 11, 0),       // rewrite f's first instruction through the warm fast entry
                    jal(1, 0x1000 - 16), // call f: must run the new instruction
                    ECALL);
            m.h.x[11] = 0x8000;
            m.h.x[13] = newInsn & 0xffffffffL;
        }, 3 + 2 + 2 + 2 + 1 + 5);
        assertThat(jit.h.x[10]).as("1 + 100: the second call ran the rewritten code").isEqualTo(101);
    }

    @Test
    void storesOnCleanPagesAreLoggedOnceDirtyLoggingIsOnEvenWithWarmTlbEntries() {
        Machine[] ms = {new Machine(), new Machine()};
        CpuEngine[] engines = {new Interpreter(), new JitEngine(0)};
        for (int k = 0; k < 2; k++) {
            Machine m = ms[k];
            m.code(RAM, sd(5, 10, 0), sd(5, 11, 8), addi(5, 5, 1), ld(6, 12, 0), jal(0, -16));
            m.h.x[10] = 0x1000;
            m.h.x[11] = 0x2000;
            m.h.x[12] = 0x3000; // loads only from the read-only page
            // Batches longer than the region, so the JIT never hands a pass to the interpreter (whose stores
            // would mark the pages whatever the generated code does).
            runFixed(engines[k], m.h, 500, 100); // warm: TLB entries, translations, logging off
            m.mem.dirtyLog().setEnabled(true); // as migration does, between batches
            runFixed(engines[k], m.h, 500, 100);
            long pages = m.mem.dirtyLog().fetchAndClear(0);
            long d0 = (page(0) - RAM) >>> 12;
            long d1 = (page(1) - RAM) >>> 12;
            long d2 = (page(2) - RAM) >>> 12;
            String what = engines[k].getClass().getSimpleName();
            assertThat(pages & (1L << d0)).as(what + ": D0 marked").isNotZero();
            assertThat(pages & (1L << d1)).as(what + ": D1 marked").isNotZero();
            assertThat(pages & (1L << d2)).as(what + ": D2 only read, so clean").isZero();
            assertThat(pages & ~((1L << d0) | (1L << d1))).as(what + ": nothing else written in the first 64 pages")
                    .isZero();
        }
        assertThat(ms[1].h.x).isEqualTo(ms[0].h.x);
        assertThat(JitEngine.translations(ms[1].h)).isPositive();
    }

    @Test
    void sfenceVmaAndSatpWritesRetargetLoadsThatHitTheTlb() {
        long newPte = ((page(1) >>> 12) << 10) | V | R | W | A | D;
        Machine jit = compare(m -> {
            m.code(RAM,
                    ld(5, 10, 0),        // VA 0x1000 -> D0 (fills the TLB)
                    ld(5, 10, 0),        // TLB hit
                    sd(12, 11, 8),       // rewrite L0[1]: VA 0x1000 -> D1 (through the identity map)
                    ld(6, 10, 0),        // no sfence yet: both engines still use the TLB entry
                    sfenceVma(),
                    ld(7, 10, 0),        // D1
                    csrrw(0, SATP, 13),  // the second root: VA 0x1000 -> D2
                    ld(8, 10, 0),        // D2
                    ld(9, 10, 8),
                    ECALL);
            m.h.x[10] = 0x1000;
            m.h.x[11] = L0;
            m.h.x[12] = newPte;
            m.h.x[13] = (8L << 60) | (ROOT2 >>> 12);
        }, 10 + 5);
        assertThat(jit.h.x[5]).isEqualTo(jit.mem.loadLong(page(0) - RAM));
        assertThat(jit.h.x[7]).as("after sfence.vma").isEqualTo(jit.mem.loadLong(page(1) - RAM));
        assertThat(jit.h.x[8]).as("after the satp write").isEqualTo(jit.mem.loadLong(page(2) - RAM));
        assertThat(jit.h.x[9]).isEqualTo(jit.mem.loadLong(page(2) - RAM + 8));
    }

    @Test
    void sfenceVmaOfAPageWhoseTlbEntryWasReplacedStillRetargetsItsLoads() {
        // VA 0x801000 has the same TLB index as VA 0x1000 (2048 pages apart). The JIT's folded TLB entry of VA
        // 0x1000 must go when the hart's entry is taken over by VA 0x801000: sfence.vma of VA 0x1000 then finds
        // no entry of that page in the hart's TLB, so nothing else would drop the folded one.
        long l0c = RAM + 0x15000;
        long newPte = ((page(1) >>> 12) << 10) | V | R | W | A | D;
        Machine jit = compare(m -> {
            m.pte(L1, 4, l0c, V);
            m.pte(l0c, 1, page(3), V | R | W | A | D); // VA 0x801000: D3
            m.code(RAM,
                    ld(5, 10, 0),        // VA 0x1000 -> D0 (fills the TLB)
                    ld(5, 10, 0),        // TLB hit
                    ld(6, 14, 0),        // VA 0x801000 -> D3: takes over the TLB entry of VA 0x1000
                    sd(12, 11, 8),       // rewrite L0[1]: VA 0x1000 -> D1
                    (0x09 << 25) | (10 << 15) | 0x73, // sfence.vma x10: VA 0x1000 only
                    ld(7, 10, 0),        // D1
                    ECALL);
            m.h.x[10] = 0x1000;
            m.h.x[11] = L0;
            m.h.x[12] = newPte;
            m.h.x[14] = 0x801000;
        }, 7 + 5);
        assertThat(jit.h.x[5]).isEqualTo(jit.mem.loadLong(page(0) - RAM));
        assertThat(jit.h.x[6]).isEqualTo(jit.mem.loadLong(page(3) - RAM));
        assertThat(jit.h.x[7]).as("after sfence.vma of VA 0x1000").isEqualTo(jit.mem.loadLong(page(1) - RAM));
    }

    @Test
    void aRegionInUserModeAfterSretDoesNotKeepTheSupervisorChecks() {
        // S-mode warms the TLB entry of the supervisor page at VA 0x1000 (D0), then srets to user code at VA
        // 0xa000 whose loads from VA 0x1000 must fault although that entry is warm: the user region must not run
        // with the checks the supervisor region took (the hart's MMU epoch moves with sret and traps).
        Machine[] ms = {new Machine(), new Machine()};
        CpuEngine[] engines = {new Interpreter(), new JitEngine(0)};
        for (int k = 0; k < 2; k++) {
            Machine m = ms[k];
            m.pte(L0, 10, RAM + 0x3000, V | R | X | U | A);
            m.code(RAM, ld(6, 10, 0), csrrw(0, SEPC, 11), csrrc(0, SSTATUS, 12), SRET);
            m.code(RAM + 0x3000, ld(5, 10, 0), addi(7, 7, 1), ld(8, 10, 8), addi(7, 7, 1), ECALL);
            m.h.x[10] = 0x1000;
            m.h.x[11] = 0xa000;
            m.h.x[12] = 1L << 8; // SPP
            runFixed(engines[k], m.h, 4 + 5 + 2 * 9, 1000);
        }
        Hart a = ms[0].h;
        Hart b = ms[1].h;
        assertThat(a.x[20]).as("interpreter: both user loads faulted").isEqualTo(2);
        assertThat(a.x[21]).isEqualTo(2L * Causes.LOAD_PAGE_FAULT);
        assertThat(b.x).as("x").isEqualTo(a.x);
        assertThat(b.pc).as("pc: the M-mode handler after the user ecall").isEqualTo(a.pc).isEqualTo(MTVEC);
        assertThat(b.mcause).isEqualTo(Causes.ECALL_U);
        assertThat(JitEngine.translations(b)).isPositive();
    }

    @Test
    void aRegionEnteredAfterAnInterpretedCsrWriteTakesTheNewChecks() {
        // R (translated, warm TLB entry of the user page, SUM on) is entered again right after cold code that the
        // dispatcher interprets has cleared SUM: the load in R must fault. Regions no longer revalidate in their
        // prologue; the CSR write ends the batch (fresh checks at the next batch start) and the dispatcher also
        // revalidates before every region it enters. (Checked: this one still passes with both removed; the sret and
        // dirty-log tests above are the ones that catch that.)
        Machine[] ms = {new Machine(), new Machine()};
        CpuEngine[] engines = {new Interpreter(), new JitEngine(1, false, false)};
        for (int k = 0; k < 2; k++) {
            Machine m = ms[k];
            m.code(RAM, lw(8, 14, 0), addi(7, 7, 1), addi(11, 11, -1), jal(0, 0x200 - 0xc));   // R
            m.code(RAM + 0x200, bne(11, 0, -0x200), jal(0, 0x300 - 0x204));                  // D: back to R or C
            m.code(RAM + 0x300, csrrc(0, SSTATUS, 17), addi(13, 13, 1), addi(11, 0, 1),      // C: SUM off
                    bne(13, 15, -0x30c), ECALL);
            m.h.mstatus |= SUM;
            m.h.x[11] = 3;
            m.h.x[14] = 0x6000;
            m.h.x[15] = 2;
            m.h.x[17] = SUM;
            runFixed(engines[k], m.h, 200, 10_000);
        }
        Hart a = ms[0].h;
        Hart b = ms[1].h;
        assertThat(a.x[20]).as("interpreter: the load after SUM went off faulted").isEqualTo(1);
        assertThat(b.x).as("x").isEqualTo(a.x);
        assertThat(b.pc).isEqualTo(a.pc).isEqualTo(MTVEC);
        assertThat(JitEngine.translations(b)).isPositive();
    }

    @Test
    void anInstructionAcrossThePageEndIsSteppedAloneAndTheNextPageRunsTranslated() {
        int iterations = 50;
        Machine[] ms = {new Machine(), new Machine()};
        CpuEngine[] engines = {new Interpreter(), new JitEngine(0)};
        for (int k = 0; k < 2; k++) {
            Machine m = ms[k];
            long at = RAM + 0x1ff8;
            m.code(at, addi(5, 5, 1));                            // 0x1ff8
            m.mem.storeShort(at + 4 - RAM, (short) 0x0001);       // 0x1ffc c.nop
            int cross = addi(6, 6, 1);                            // 0x1ffe: a 4-byte instruction across the page end
            m.mem.storeShort(at + 6 - RAM, (short) cross);
            m.mem.storeShort(at + 8 - RAM, (short) (cross >>> 16));
            m.code(at + 10, addi(11, 11, -1), bne(11, 0, -14), ECALL); // 0x2002, 0x2006 (back to 0x1ff8), 0x200a
            m.h.pc = at;
            m.h.x[11] = iterations;
            runFixed(engines[k], m.h, 5 * iterations + 1, 1000);
        }
        Hart a = ms[0].h;
        Hart b = ms[1].h;
        assertThat(a.x[6]).isEqualTo(iterations);
        assertThat(b.x).as("x").isEqualTo(a.x);
        assertThat(b.pc).isEqualTo(a.pc).isEqualTo(MTVEC);
        assertThat(b.instret).isEqualTo(a.instret);
        // The crossing instruction is the only one interpreted per iteration (plus the first visits).
        assertThat(JitEngine.interpreted(b)).as("interpreted instructions").isLessThanOrEqualTo(iterations + 6);
    }
}
