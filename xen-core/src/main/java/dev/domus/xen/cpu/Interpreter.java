// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

/**
 * The reference execution engine: fetch, decode through {@link Decoder}/{@link Rvc}, execute, one instruction at a
 * time. Instructions are decoded once per code page into the hart's {@link DecodeCache}; the loop reads a slot and
 * switches on its dense op code. Synchronous exceptions arrive as the hart's preallocated {@link TrapException} and are taken at the
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
        int n = 0;
        long pc = h.pc;
        long instretBase = h.instret;
        h.revalidateDecoded();
        while (n < budget) {
            long seq = -1;
            try {
                // ---- fetch + decode: one slot of the attached decoded page (DecodeCache) ----
                long d;
                if ((pc & ~0xffeL) == h.decTag) {
                    d = h.decSlots[(int) (pc & 0xfff) >>> 1];
                    if (d == 0) {
                        d = h.decodeSlot(pc);
                    }
                } else {
                    d = h.decodeMiss(pc);
                }
                n++;
                long next = pc + ((d & DecodeCache.LEN4) != 0 ? 4 : 2);
                seq = next;
                final int rd = (int) (d >>> 10) & 31;
                final int rs1 = (int) (d >>> 15) & 31;
                final int rs2 = (int) (d >>> 20) & 31;
                final int imm = (int) (d >>> 32);
                switch ((int) d & 0xff) {
                    case DecodeCache.LUI -> setX(x, rd, imm);
                    case DecodeCache.AUIPC -> setX(x, rd, pc + imm);
                    case DecodeCache.JAL -> {
                        if (rd != 0) {
                            x[rd] = next;
                        }
                        next = pc + imm;
                    }
                    case DecodeCache.JALR -> {
                        long target = (x[rs1] + imm) & ~1L;
                        if (rd != 0) {
                            x[rd] = next;
                        }
                        next = target;
                    }
                    case DecodeCache.BEQ -> {
                        if (x[rs1] == x[rs2]) {
                            next = pc + imm;
                        }
                    }
                    case DecodeCache.BNE -> {
                        if (x[rs1] != x[rs2]) {
                            next = pc + imm;
                        }
                    }
                    case DecodeCache.BLT -> {
                        if (x[rs1] < x[rs2]) {
                            next = pc + imm;
                        }
                    }
                    case DecodeCache.BGE -> {
                        if (x[rs1] >= x[rs2]) {
                            next = pc + imm;
                        }
                    }
                    case DecodeCache.BLTU -> {
                        if (Long.compareUnsigned(x[rs1], x[rs2]) < 0) {
                            next = pc + imm;
                        }
                    }
                    case DecodeCache.BGEU -> {
                        if (Long.compareUnsigned(x[rs1], x[rs2]) >= 0) {
                            next = pc + imm;
                        }
                    }
                    case DecodeCache.LB -> setX(x, rd, (byte) h.load(x[rs1] + imm, 1));
                    case DecodeCache.LH -> setX(x, rd, (short) h.load(x[rs1] + imm, 2));
                    case DecodeCache.LW -> setX(x, rd, (int) h.load(x[rs1] + imm, 4));
                    case DecodeCache.LD -> setX(x, rd, h.load(x[rs1] + imm, 8));
                    case DecodeCache.LBU -> setX(x, rd, h.load(x[rs1] + imm, 1));
                    case DecodeCache.LHU -> setX(x, rd, h.load(x[rs1] + imm, 2));
                    case DecodeCache.LWU -> setX(x, rd, h.load(x[rs1] + imm, 4));
                    case DecodeCache.SB -> h.store(x[rs1] + imm, 1, x[rs2]);
                    case DecodeCache.SH -> h.store(x[rs1] + imm, 2, x[rs2]);
                    case DecodeCache.SW -> h.store(x[rs1] + imm, 4, x[rs2]);
                    case DecodeCache.SD -> h.store(x[rs1] + imm, 8, x[rs2]);
                    case DecodeCache.ADDI -> setX(x, rd, x[rs1] + imm);
                    case DecodeCache.SLTI -> setX(x, rd, x[rs1] < imm ? 1 : 0);
                    case DecodeCache.SLTIU -> setX(x, rd, Long.compareUnsigned(x[rs1], imm) < 0 ? 1 : 0);
                    case DecodeCache.XORI -> setX(x, rd, x[rs1] ^ imm);
                    case DecodeCache.ORI -> setX(x, rd, x[rs1] | imm);
                    case DecodeCache.ANDI -> setX(x, rd, x[rs1] & imm);
                    case DecodeCache.SLLI -> setX(x, rd, x[rs1] << imm);
                    case DecodeCache.SRLI -> setX(x, rd, x[rs1] >>> imm);
                    case DecodeCache.SRAI -> setX(x, rd, x[rs1] >> imm);
                    case DecodeCache.ADD -> setX(x, rd, x[rs1] + x[rs2]);
                    case DecodeCache.SUB -> setX(x, rd, x[rs1] - x[rs2]);
                    case DecodeCache.SLL -> setX(x, rd, x[rs1] << (x[rs2] & 63));
                    case DecodeCache.SLT -> setX(x, rd, x[rs1] < x[rs2] ? 1 : 0);
                    case DecodeCache.SLTU -> setX(x, rd, Long.compareUnsigned(x[rs1], x[rs2]) < 0 ? 1 : 0);
                    case DecodeCache.XOR -> setX(x, rd, x[rs1] ^ x[rs2]);
                    case DecodeCache.SRL -> setX(x, rd, x[rs1] >>> (x[rs2] & 63));
                    case DecodeCache.SRA -> setX(x, rd, x[rs1] >> (x[rs2] & 63));
                    case DecodeCache.OR -> setX(x, rd, x[rs1] | x[rs2]);
                    case DecodeCache.AND -> setX(x, rd, x[rs1] & x[rs2]);
                    case DecodeCache.ADDIW -> setX(x, rd, (int) (x[rs1] + imm));
                    case DecodeCache.SLLIW -> setX(x, rd, ((int) x[rs1]) << rs2);
                    case DecodeCache.SRLIW -> setX(x, rd, ((int) x[rs1]) >>> rs2);
                    case DecodeCache.SRAIW -> setX(x, rd, ((int) x[rs1]) >> rs2);
                    case DecodeCache.ADDW -> setX(x, rd, (int) (x[rs1] + x[rs2]));
                    case DecodeCache.SUBW -> setX(x, rd, (int) (x[rs1] - x[rs2]));
                    case DecodeCache.SLLW -> setX(x, rd, ((int) x[rs1]) << (x[rs2] & 31));
                    case DecodeCache.SRLW -> setX(x, rd, ((int) x[rs1]) >>> (x[rs2] & 31));
                    case DecodeCache.SRAW -> setX(x, rd, ((int) x[rs1]) >> (x[rs2] & 31));
                    case DecodeCache.FENCE -> java.lang.invoke.VarHandle.fullFence();
                    case DecodeCache.MUL -> setX(x, rd, x[rs1] * x[rs2]);
                    case DecodeCache.MULW -> setX(x, rd, (int) x[rs1] * (int) x[rs2]);
                    default -> {
                        // Everything else out of line: a smaller loop is compiled by C2 sooner and faster, which
                        // is a good part of a boot's time. CSR reads of minstret need the exact count.
                        h.instret = instretBase + n;
                        next = rare(h, d, pc, next);
                        instretBase = h.instret - n;
                    }
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

    /**
     * The instructions the loop does not handle inline (system, CSRs, M divisions, atomics, F/D, illegal); returns
     * the next pc. {@code h.instret} is exact on entry and may be changed (minstret writes).
     */
    private static long rare(Hart h, long d, long pc, long next) {
        final long[] x = h.x;
        final int rd = (int) (d >>> 10) & 31;
        final int rs1 = (int) (d >>> 15) & 31;
        final int rs2 = (int) (d >>> 20) & 31;
        final int imm = (int) (d >>> 32);
        switch ((int) d & 0xff) {
            case DecodeCache.FENCE_I -> {
                h.fetchVpage = -1;
                h.decTag = -1;
            }
            case DecodeCache.ECALL -> {
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
            case DecodeCache.EBREAK -> throw h.fault(Causes.BREAKPOINT, pc);
            case DecodeCache.CSR -> csr(h, imm, rd, rs1);
            case DecodeCache.SRET -> {
                h.pc = pc;
                h.sret();
                next = h.pc;
            }
            case DecodeCache.MRET -> {
                h.pc = pc;
                h.mret();
                next = h.pc;
            }
            case DecodeCache.WFI -> h.wfi(imm);
            case DecodeCache.SFENCE_VMA -> h.sfenceVma(imm, x[rs1], rs1 == 0);
            case DecodeCache.MULH -> setX(x, rd, Math.multiplyHigh(x[rs1], x[rs2]));
            case DecodeCache.MULHSU -> {
                long a = x[rs1];
                long b = x[rs2];
                setX(x, rd, Math.multiplyHigh(a, b) + (b < 0 ? a : 0));
            }
            case DecodeCache.MULHU -> setX(x, rd, Math.unsignedMultiplyHigh(x[rs1], x[rs2]));
            case DecodeCache.DIV -> {
                long a = x[rs1];
                long b = x[rs2];
                setX(x, rd, b == 0 ? -1L : (a == Long.MIN_VALUE && b == -1) ? a : a / b);
            }
            case DecodeCache.DIVU -> {
                long b = x[rs2];
                setX(x, rd, b == 0 ? -1L : Long.divideUnsigned(x[rs1], b));
            }
            case DecodeCache.REM -> {
                long a = x[rs1];
                long b = x[rs2];
                setX(x, rd, b == 0 ? a : (a == Long.MIN_VALUE && b == -1) ? 0 : a % b);
            }
            case DecodeCache.REMU -> {
                long b = x[rs2];
                setX(x, rd, b == 0 ? x[rs1] : Long.remainderUnsigned(x[rs1], b));
            }
            case DecodeCache.DIVW -> {
                int a = (int) x[rs1];
                int b = (int) x[rs2];
                setX(x, rd, b == 0 ? -1 : (a == Integer.MIN_VALUE && b == -1) ? a : a / b);
            }
            case DecodeCache.DIVUW -> {
                int b = (int) x[rs2];
                setX(x, rd, b == 0 ? -1 : Integer.divideUnsigned((int) x[rs1], b));
            }
            case DecodeCache.REMW -> {
                int a = (int) x[rs1];
                int b = (int) x[rs2];
                setX(x, rd, b == 0 ? a : (a == Integer.MIN_VALUE && b == -1) ? 0 : a % b);
            }
            case DecodeCache.REMUW -> {
                int b = (int) x[rs2];
                setX(x, rd, b == 0 ? (int) x[rs1] : Integer.remainderUnsigned((int) x[rs1], b));
            }
            case DecodeCache.ATOMIC -> Atomics.execute(h, imm, rd, rs1, rs2);
            case DecodeCache.ILLEGAL -> throw h.illegal(imm);
            default -> FpExec.execute(h, imm, rd, rs1, rs2);
        }
        return next;
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
