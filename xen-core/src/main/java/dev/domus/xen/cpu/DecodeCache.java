// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import dev.domus.xen.memory.GuestMemory;

import java.util.Arrays;

/**
 * Per-hart cache of pre-decoded instructions, one {@code long[2048]} per guest-physical code page (a slot per 2-byte
 * offset), filled lazily the first time an instruction is executed. The interpreter then skips fetch, RVC expansion
 * and table decode: on a Linux boot the 17-bit decode table lookup alone was over half of the interpreter's samples
 * (the 128 KiB table and the 256 KiB RVC table miss the L1 cache; a page's slots are 16 KiB and used in order).
 *
 * <p>Validity: a page is decoded under the page's code state from {@link GuestMemory#watchCode(long)}, the same
 * generation the JIT uses, so every later write to the page (any hart, devices, the loader) makes it stale. The hart
 * re-checks the state when it attaches a page (fetch page change, batch start) and drops its attached page when it
 * stores into that page itself, so a hart sees its own code stores at once, as before the cache.
 *
 * <p>A hash table on the physical page number, bounded ({@link #PAGES} pages, 16 KiB each, allocated on first
 * use; dropped wholesale when full), so a guest cannot grow it. Slot layout: bits 0-7 the internal op code below, bit 8 set for a 4-byte
 * instruction, bit 9 always set (0 = not decoded yet), bits 10-14 rd, 15-19 rs1, 20-24 rs2, bits 32-63 the
 * immediate already extracted and sign-extended, or the whole (expanded) instruction word for the ops whose
 * handlers take it (CSR, atomics, F/D, WFI, SFENCE.VMA, illegal).
 */
final class DecodeCache {
    /**
     * Decoded pages per hart: 1024 x 16 KiB = 16 MiB at most. A Linux boot executes ~570 distinct pages; a 256-entry
     * direct-mapped version re-decoded a page every ~50 page changes (conflicts 1 MiB apart in the kernel text).
     */
    static final int PAGES = 1024;
    private static final int TABLE_BITS = 11;
    private static final int TABLE = 1 << TABLE_BITS;
    static final int SLOTS = 2048;

    static final long LEN4 = 1L << 8;
    static final long VALID = 1L << 9;

    // Internal op codes: dense, so the interpreter's switch compiles to one jump table. 0 = F/D (FpExec).
    static final int FP = 0;
    static final int LUI = 1;
    static final int AUIPC = 2;
    static final int JAL = 3;
    static final int JALR = 4;
    static final int BEQ = 5;
    static final int BNE = 6;
    static final int BLT = 7;
    static final int BGE = 8;
    static final int BLTU = 9;
    static final int BGEU = 10;
    static final int LB = 11;
    static final int LH = 12;
    static final int LW = 13;
    static final int LD = 14;
    static final int LBU = 15;
    static final int LHU = 16;
    static final int LWU = 17;
    static final int SB = 18;
    static final int SH = 19;
    static final int SW = 20;
    static final int SD = 21;
    static final int ADDI = 22;
    static final int SLTI = 23;
    static final int SLTIU = 24;
    static final int XORI = 25;
    static final int ORI = 26;
    static final int ANDI = 27;
    static final int SLLI = 28;
    static final int SRLI = 29;
    static final int SRAI = 30;
    static final int ADD = 31;
    static final int SUB = 32;
    static final int SLL = 33;
    static final int SLT = 34;
    static final int SLTU = 35;
    static final int XOR = 36;
    static final int SRL = 37;
    static final int SRA = 38;
    static final int OR = 39;
    static final int AND = 40;
    static final int ADDIW = 41;
    static final int SLLIW = 42;
    static final int SRLIW = 43;
    static final int SRAIW = 44;
    static final int ADDW = 45;
    static final int SUBW = 46;
    static final int SLLW = 47;
    static final int SRLW = 48;
    static final int SRAW = 49;
    static final int FENCE = 50;
    static final int FENCE_I = 51;
    static final int ECALL = 52;
    static final int EBREAK = 53;
    static final int CSR = 54;
    static final int SRET = 55;
    static final int MRET = 56;
    static final int WFI = 57;
    static final int SFENCE_VMA = 58;
    static final int MUL = 59;
    static final int MULH = 60;
    static final int MULHSU = 61;
    static final int MULHU = 62;
    static final int DIV = 63;
    static final int DIVU = 64;
    static final int REM = 65;
    static final int REMU = 66;
    static final int MULW = 67;
    static final int DIVW = 68;
    static final int DIVUW = 69;
    static final int REMW = 70;
    static final int REMUW = 71;
    static final int ATOMIC = 72;
    static final int ILLEGAL = 73;

    /** Internal op code per {@link Op} ordinal. */
    private static final byte[] CODE = new byte[Op.values().length];

    static {
        for (Op op : Op.values()) {
            CODE[op.ordinal()] = (byte) switch (op) {
                case LUI -> LUI;
                case AUIPC -> AUIPC;
                case JAL -> JAL;
                case JALR -> JALR;
                case BEQ -> BEQ;
                case BNE -> BNE;
                case BLT -> BLT;
                case BGE -> BGE;
                case BLTU -> BLTU;
                case BGEU -> BGEU;
                case LB -> LB;
                case LH -> LH;
                case LW -> LW;
                case LD -> LD;
                case LBU -> LBU;
                case LHU -> LHU;
                case LWU -> LWU;
                case SB -> SB;
                case SH -> SH;
                case SW -> SW;
                case SD -> SD;
                case ADDI -> ADDI;
                case SLTI -> SLTI;
                case SLTIU -> SLTIU;
                case XORI -> XORI;
                case ORI -> ORI;
                case ANDI -> ANDI;
                case SLLI -> SLLI;
                case SRLI -> SRLI;
                case SRAI -> SRAI;
                case ADD -> ADD;
                case SUB -> SUB;
                case SLL -> SLL;
                case SLT -> SLT;
                case SLTU -> SLTU;
                case XOR -> XOR;
                case SRL -> SRL;
                case SRA -> SRA;
                case OR -> OR;
                case AND -> AND;
                case ADDIW -> ADDIW;
                case SLLIW -> SLLIW;
                case SRLIW -> SRLIW;
                case SRAIW -> SRAIW;
                case ADDW -> ADDW;
                case SUBW -> SUBW;
                case SLLW -> SLLW;
                case SRLW -> SRLW;
                case SRAW -> SRAW;
                case FENCE -> FENCE;
                case FENCE_I -> FENCE_I;
                case ECALL -> ECALL;
                case EBREAK -> EBREAK;
                case CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI -> CSR;
                case SRET -> SRET;
                case MRET -> MRET;
                case WFI -> WFI;
                case SFENCE_VMA -> SFENCE_VMA;
                case MUL -> MUL;
                case MULH -> MULH;
                case MULHSU -> MULHSU;
                case MULHU -> MULHU;
                case DIV -> DIV;
                case DIVU -> DIVU;
                case REM -> REM;
                case REMU -> REMU;
                case MULW -> MULW;
                case DIVW -> DIVW;
                case DIVUW -> DIVUW;
                case REMW -> REMW;
                case REMUW -> REMUW;
                case LR_W, LR_D, SC_W, SC_D, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W,
                     AMOMAX_W, AMOMINU_W, AMOMAXU_W, AMOSWAP_D, AMOADD_D, AMOXOR_D, AMOAND_D, AMOOR_D,
                     AMOMIN_D, AMOMAX_D, AMOMINU_D, AMOMAXU_D -> ATOMIC;
                case ILLEGAL -> ILLEGAL;
                default -> FP;
            };
        }
    }

    private final GuestMemory ram;
    /** Open-addressed table (linear probing) on the physical page number; never more than half full. */
    private final int[] tags = new int[TABLE];
    private final long[][] pages = new long[TABLE][];
    /** Code state of the page when its slots were cleared (see {@link GuestMemory#watchCode(long)}). */
    private final int[] states = new int[TABLE];
    private int count;
    /** Pages (re)decoded since start: new pages and invalidations, for tests and profiling. */
    long refills;
    /** Times the whole cache was dropped because it was full. */
    long flushes;
    /** The code state the last {@link #attach} validated the page against (its slots are valid under it). */
    int attachedState;

    DecodeCache(GuestMemory ram) {
        this.ram = ram;
        Arrays.fill(tags, -1);
    }

    private int find(int ppage) {
        int i = (ppage * 0x9E3779B1) >>> (32 - TABLE_BITS);
        while (tags[i] != ppage && tags[i] != -1) {
            i = (i + 1) & (TABLE - 1);
        }
        return i;
    }

    /**
     * The slots of the RAM page at {@code pageOff} (a page-aligned RAM offset), emptied first when the page was
     * written since it was decoded.
     */
    long[] attach(long pageOff) {
        int ppage = (int) (pageOff >>> GuestMemory.PAGE_SHIFT);
        int i = find(ppage);
        long[] p = pages[i];
        if (tags[i] == ppage) {
            if (states[i] == ram.codeState(ppage)) {
                attachedState = states[i];
                return p;
            }
            Arrays.fill(p, 0);
        } else {
            if (count >= PAGES) {
                // Full: start again rather than track recency; a working set this large is rare (boot: ~570 pages).
                clear();
                flushes++;
                i = find(ppage);
            }
            p = new long[SLOTS];
            tags[i] = ppage;
            pages[i] = p;
            count++;
        }
        refills++;
        // Watch before any slot is decoded from RAM: a write from now on bumps the state.
        states[i] = ram.watchCode(pageOff);
        attachedState = states[i];
        return p;
    }

    /** Drops every page (snapshot restore, or the cache is full). */
    void clear() {
        Arrays.fill(tags, -1);
        Arrays.fill(pages, null);
        count = 0;
    }

    /**
     * The slot value for instruction {@code insn} ({@code len} 2 or 4 bytes; for 2 the expanded form, or 0 when the
     * compressed encoding {@code raw} is reserved).
     */
    static long entry(int insn, int len, int raw) {
        int code;
        long imm;
        if (insn == 0) {
            code = ILLEGAL;
            imm = raw;
        } else {
            Op op = Decoder.decode(insn);
            code = CODE[op.ordinal()];
            imm = switch (code) {
                case LUI, AUIPC -> insn & 0xfffff000;
                case JAL -> Interpreter.immJ(insn);
                case BEQ, BNE, BLT, BGE, BLTU, BGEU -> Interpreter.immB(insn);
                case SB, SH, SW, SD -> Interpreter.immS(insn);
                case SLLI, SRLI, SRAI -> (insn >>> 20) & 63;
                case JALR, LB, LH, LW, LD, LBU, LHU, LWU, ADDI, SLTI, SLTIU, XORI, ORI, ANDI, ADDIW -> insn >> 20;
                case ILLEGAL -> len == 2 ? raw : insn;
                default -> insn;
            };
        }
        return code | (len == 4 ? LEN4 : 0) | VALID | (long) ((insn >>> 7) & 31) << 10
                | (long) ((insn >>> 15) & 31) << 15 | (long) ((insn >>> 20) & 31) << 20 | (imm << 32);
    }
}
