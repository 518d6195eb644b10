// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The reference execution engine: fetch, decode through {@link Decoder}/{@link Rvc}, execute, one instruction at a
 * time. Synchronous exceptions arrive as the hart's preallocated {@link TrapException} and are taken at the
 * instruction boundary. The loop is plain code over primitives: no allocation per instruction.
 */
public final class Interpreter implements CpuEngine {
    static {
        // Load what run() calls only for rarer instructions now. C2 compiles run() seconds before a booting guest
        // executes its first F/D instruction (user space); a call to a class not yet loaded is compiled as an
        // "unloaded" uncommon trap, so that first FP instruction threw the whole compiled loop away (boot trace:
        // a second C2 compile of run() plus seconds in profiled C1 code). PerMethodTrapLimit does not cover it.
        for (String c : new String[] {"dev.domus.xen.cpu.FpExec", "dev.domus.xen.cpu.Atomics"}) {
            try {
                Class.forName(c, true, Interpreter.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("xen-core is incomplete: " + c + " is missing", e);
            }
        }
    }

    @Override
    public int execute(Hart h, int budget) {
        int n = run(h, budget, false);
        h.endBatch = false;
        return n;
    }

    /**
     * The interpreter loop. With {@code stopAtJump} it also returns after the first instruction that does not fall
     * through (taken branch, jump, trap, xRET), so a translating engine can resume at the next block entry; it
     * never clears {@link Hart#endBatch} (the caller does).
     */
    static int run(Hart h, int budget, boolean stopAtJump) {
        final long[] x = h.x;
        // Locals, not fields: the JIT does not trust instance finals, and re-loading h.ram.segment's fields on
        // every fetch costs more than the fetch itself.
        final MemorySegment code = h.ram.segment();
        int n = 0;
        long pc = h.pc;
        long instretBase = h.instret;
        while (n < budget) {
            long seq = -1;
            try {
                int insn;
                int len;
                // ---- fetch ----
                if ((pc & 1) != 0) {
                    throw h.fault(Causes.INSN_MISALIGNED, pc);
                }
                int lo;
                int word;
                long pageOff = pc & 0xfff;
                if ((pc >>> 12) == h.fetchVpage || h.refillFetchPage(pc)) {
                    if (pageOff <= 0xffc) {
                        word = code.get(ValueLayout.JAVA_INT_UNALIGNED, h.fetchRamOffset + pageOff);
                        lo = word & 0xffff;
                    } else {
                        lo = h.ram.loadShort(h.fetchRamOffset + pageOff) & 0xffff;
                        word = (lo & 3) == 3 ? lo | (h.fetch16(pc + 2) << 16) : lo;
                    }
                } else {
                    lo = h.fetch16(pc);
                    word = (lo & 3) == 3 ? lo | (h.fetch16(pc + 2) << 16) : lo;
                }
                if ((lo & 3) != 3) {
                    insn = Rvc.expanded(lo);
                    len = 2;
                    if (insn == 0) {
                        throw h.illegal(lo);
                    }
                } else {
                    insn = word;
                    len = 4;
                }
                n++;
                long next = pc + len;
                seq = next;
                final int rd = (insn >>> 7) & 31;
                final int rs1 = (insn >>> 15) & 31;
                final int rs2 = (insn >>> 20) & 31;
                switch (Decoder.decode(insn)) {
                    case LUI -> {
                        if (rd != 0) {
                            x[rd] = insn & 0xfffff000;
                        }
                    }
                    case AUIPC -> {
                        if (rd != 0) {
                            x[rd] = pc + (insn & 0xfffff000);
                        }
                    }
                    case JAL -> {
                        long target = pc + immJ(insn);
                        if (rd != 0) {
                            x[rd] = next;
                        }
                        next = target;
                    }
                    case JALR -> {
                        long target = (x[rs1] + (insn >> 20)) & ~1L;
                        if (rd != 0) {
                            x[rd] = next;
                        }
                        next = target;
                    }
                    case BEQ -> {
                        if (x[rs1] == x[rs2]) {
                            next = pc + immB(insn);
                        }
                    }
                    case BNE -> {
                        if (x[rs1] != x[rs2]) {
                            next = pc + immB(insn);
                        }
                    }
                    case BLT -> {
                        if (x[rs1] < x[rs2]) {
                            next = pc + immB(insn);
                        }
                    }
                    case BGE -> {
                        if (x[rs1] >= x[rs2]) {
                            next = pc + immB(insn);
                        }
                    }
                    case BLTU -> {
                        if (Long.compareUnsigned(x[rs1], x[rs2]) < 0) {
                            next = pc + immB(insn);
                        }
                    }
                    case BGEU -> {
                        if (Long.compareUnsigned(x[rs1], x[rs2]) >= 0) {
                            next = pc + immB(insn);
                        }
                    }
                    case LB -> setX(x, rd, (byte) h.load(x[rs1] + (insn >> 20), 1));
                    case LH -> setX(x, rd, (short) h.load(x[rs1] + (insn >> 20), 2));
                    case LW -> setX(x, rd, (int) h.load(x[rs1] + (insn >> 20), 4));
                    case LD -> setX(x, rd, h.load(x[rs1] + (insn >> 20), 8));
                    case LBU -> setX(x, rd, h.load(x[rs1] + (insn >> 20), 1));
                    case LHU -> setX(x, rd, h.load(x[rs1] + (insn >> 20), 2));
                    case LWU -> setX(x, rd, h.load(x[rs1] + (insn >> 20), 4));
                    case SB -> h.store(x[rs1] + immS(insn), 1, x[rs2]);
                    case SH -> h.store(x[rs1] + immS(insn), 2, x[rs2]);
                    case SW -> h.store(x[rs1] + immS(insn), 4, x[rs2]);
                    case SD -> h.store(x[rs1] + immS(insn), 8, x[rs2]);
                    case ADDI -> setX(x, rd, x[rs1] + (insn >> 20));
                    case SLTI -> setX(x, rd, x[rs1] < (insn >> 20) ? 1 : 0);
                    case SLTIU -> setX(x, rd, Long.compareUnsigned(x[rs1], insn >> 20) < 0 ? 1 : 0);
                    case XORI -> setX(x, rd, x[rs1] ^ (insn >> 20));
                    case ORI -> setX(x, rd, x[rs1] | (insn >> 20));
                    case ANDI -> setX(x, rd, x[rs1] & (insn >> 20));
                    case SLLI -> setX(x, rd, x[rs1] << ((insn >>> 20) & 63));
                    case SRLI -> setX(x, rd, x[rs1] >>> ((insn >>> 20) & 63));
                    case SRAI -> setX(x, rd, x[rs1] >> ((insn >>> 20) & 63));
                    case ADD -> setX(x, rd, x[rs1] + x[rs2]);
                    case SUB -> setX(x, rd, x[rs1] - x[rs2]);
                    case SLL -> setX(x, rd, x[rs1] << (x[rs2] & 63));
                    case SLT -> setX(x, rd, x[rs1] < x[rs2] ? 1 : 0);
                    case SLTU -> setX(x, rd, Long.compareUnsigned(x[rs1], x[rs2]) < 0 ? 1 : 0);
                    case XOR -> setX(x, rd, x[rs1] ^ x[rs2]);
                    case SRL -> setX(x, rd, x[rs1] >>> (x[rs2] & 63));
                    case SRA -> setX(x, rd, x[rs1] >> (x[rs2] & 63));
                    case OR -> setX(x, rd, x[rs1] | x[rs2]);
                    case AND -> setX(x, rd, x[rs1] & x[rs2]);
                    case ADDIW -> setX(x, rd, (int) (x[rs1] + (insn >> 20)));
                    case SLLIW -> setX(x, rd, ((int) x[rs1]) << rs2);
                    case SRLIW -> setX(x, rd, ((int) x[rs1]) >>> rs2);
                    case SRAIW -> setX(x, rd, ((int) x[rs1]) >> rs2);
                    case ADDW -> setX(x, rd, (int) (x[rs1] + x[rs2]));
                    case SUBW -> setX(x, rd, (int) (x[rs1] - x[rs2]));
                    case SLLW -> setX(x, rd, ((int) x[rs1]) << (x[rs2] & 31));
                    case SRLW -> setX(x, rd, ((int) x[rs1]) >>> (x[rs2] & 31));
                    case SRAW -> setX(x, rd, ((int) x[rs1]) >> (x[rs2] & 31));
                    case FENCE -> java.lang.invoke.VarHandle.fullFence();
                    case FENCE_I -> h.fetchVpage = -1;
                    case ECALL -> {
                        if (h.priv == Hart.PRIV_S && h.firmware != null) {
                            h.pc = next;
                            h.firmware.ecall(h);
                            next = h.pc;
                            h.endBatch = true;
                        } else {
                            throw h.fault(h.priv == Hart.PRIV_U ? Causes.ECALL_U
                                    : h.priv == Hart.PRIV_S ? Causes.ECALL_S : Causes.ECALL_M, 0);
                        }
                    }
                    case EBREAK -> throw h.fault(Causes.BREAKPOINT, pc);
                    case CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI -> {
                        h.instret = instretBase + n;
                        csr(h, insn, rd, rs1);
                        instretBase = h.instret - n;
                    }
                    case SRET -> {
                        h.pc = pc;
                        h.sret();
                        next = h.pc;
                    }
                    case MRET -> {
                        h.pc = pc;
                        h.mret();
                        next = h.pc;
                    }
                    case WFI -> h.wfi(insn);
                    case SFENCE_VMA -> h.sfenceVma(insn, x[rs1], rs1 == 0);
                    case MUL -> setX(x, rd, x[rs1] * x[rs2]);
                    case MULH -> setX(x, rd, Math.multiplyHigh(x[rs1], x[rs2]));
                    case MULHSU -> {
                        long a = x[rs1];
                        long b = x[rs2];
                        setX(x, rd, Math.multiplyHigh(a, b) + (b < 0 ? a : 0));
                    }
                    case MULHU -> setX(x, rd, Math.unsignedMultiplyHigh(x[rs1], x[rs2]));
                    case DIV -> {
                        long a = x[rs1];
                        long b = x[rs2];
                        setX(x, rd, b == 0 ? -1L : (a == Long.MIN_VALUE && b == -1) ? a : a / b);
                    }
                    case DIVU -> {
                        long b = x[rs2];
                        setX(x, rd, b == 0 ? -1L : Long.divideUnsigned(x[rs1], b));
                    }
                    case REM -> {
                        long a = x[rs1];
                        long b = x[rs2];
                        setX(x, rd, b == 0 ? a : (a == Long.MIN_VALUE && b == -1) ? 0 : a % b);
                    }
                    case REMU -> {
                        long b = x[rs2];
                        setX(x, rd, b == 0 ? x[rs1] : Long.remainderUnsigned(x[rs1], b));
                    }
                    case MULW -> setX(x, rd, (int) x[rs1] * (int) x[rs2]);
                    case DIVW -> {
                        int a = (int) x[rs1];
                        int b = (int) x[rs2];
                        setX(x, rd, b == 0 ? -1 : (a == Integer.MIN_VALUE && b == -1) ? a : a / b);
                    }
                    case DIVUW -> {
                        int b = (int) x[rs2];
                        setX(x, rd, b == 0 ? -1 : Integer.divideUnsigned((int) x[rs1], b));
                    }
                    case REMW -> {
                        int a = (int) x[rs1];
                        int b = (int) x[rs2];
                        setX(x, rd, b == 0 ? a : (a == Integer.MIN_VALUE && b == -1) ? 0 : a % b);
                    }
                    case REMUW -> {
                        int b = (int) x[rs2];
                        setX(x, rd, b == 0 ? (int) x[rs1] : Integer.remainderUnsigned((int) x[rs1], b));
                    }
                    case LR_W, LR_D, SC_W, SC_D, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W,
                         AMOMAX_W, AMOMINU_W, AMOMAXU_W, AMOSWAP_D, AMOADD_D, AMOXOR_D, AMOAND_D, AMOOR_D,
                         AMOMIN_D, AMOMAX_D, AMOMINU_D, AMOMAXU_D -> Atomics.execute(h, insn, rd, rs1, rs2);
                    case ILLEGAL -> throw h.illegal(len == 2 ? lo : insn);
                    default -> FpExec.execute(h, insn, rd, rs1, rs2);
                }
                pc = next;
            } catch (TrapException t) {
                h.pc = pc;
                h.takeTrap(t.cause, t.tval);
                pc = h.pc;
            }
            if (h.endBatch || (stopAtJump && pc != seq)) {
                break;
            }
        }
        h.pc = pc;
        h.instret = instretBase + n;
        return n;
    }

    private static void setX(long[] x, int rd, long v) {
        if (rd != 0) {
            x[rd] = v;
        }
    }

    static long immS(int insn) {
        return ((insn >> 25) << 5) | ((insn >>> 7) & 31);
    }

    static long immB(int insn) {
        return ((insn >> 31) << 12) | (((insn >>> 7) & 1) << 11) | (((insn >>> 25) & 0x3f) << 5)
                | (((insn >>> 8) & 0xf) << 1);
    }

    static long immJ(int insn) {
        return ((insn >> 31) << 20) | (insn & 0xff000) | (((insn >>> 20) & 1) << 11) | (((insn >>> 21) & 0x3ff) << 1);
    }

    private static void csr(Hart h, int insn, int rd, int rs1) {
        int csr = insn >>> 20;
        int f3 = (insn >>> 12) & 7;
        long operand = (f3 & 4) != 0 ? rs1 : h.x[rs1];
        int kind = f3 & 3; // 1 = write, 2 = set, 3 = clear
        if (kind == 1) {
            long old = rd != 0 ? h.csrRead(csr, insn) : 0;
            if (rd == 0 && ((csr >>> 8) & 3) > h.priv) {
                throw h.illegal(insn);
            }
            h.csrWrite(csr, operand, insn);
            if (rd != 0) {
                h.x[rd] = old;
            }
        } else {
            long old = h.csrRead(csr, insn);
            if (rs1 != 0) {
                long nv = kind == 2 ? old | operand : old & ~operand;
                h.csrWrite(csr, nv, insn);
            }
            if (rd != 0) {
                h.x[rd] = old;
            }
        }
    }
}
