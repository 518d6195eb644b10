// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import dev.domus.xen.cpu.fpu.Fpu;

/**
 * The F and D extensions on top of {@link Fpu}: register access with NaN-boxing, rounding-mode resolution, the
 * mstatus.FS gate, and the bit-manipulation instructions (sign injection, moves) that need no arithmetic.
 */
final class FpExec {
    private static final long BOX = 0xffffffff00000000L;
    private static final int CANONICAL_NAN_S = 0x7fc00000;

    private FpExec() {
    }

    /** A single-precision operand: the low word if properly NaN-boxed, else the canonical NaN. */
    static int s(long v) {
        return (v & BOX) == BOX ? (int) v : CANONICAL_NAN_S;
    }

    static long box(int v) {
        return BOX | (v & 0xffffffffL);
    }

    private static int rm(Hart h, int insn) {
        int rm = (insn >>> 12) & 7;
        if (rm == 7) {
            rm = h.frm;
        }
        if (rm > 4) {
            throw h.illegal(insn);
        }
        return rm;
    }

    static void execute(Hart h, int insn, int rd, int rs1, int rs2) {
        if (!h.fpEnabled()) {
            throw h.illegal(insn);
        }
        final long[] f = h.f;
        final long[] x = h.x;
        final Fpu fpu = h.fpu;
        int rs3 = insn >>> 27;
        Op op = Decoder.decode(insn);
        switch (op) {
            case FLW -> {
                long v = h.load(x[rs1] + (insn >> 20), 4);
                f[rd] = box((int) v);
            }
            case FLD -> f[rd] = h.load(x[rs1] + (insn >> 20), 8);
            case FSW -> {
                h.store(x[rs1] + Interpreter.immS(insn), 4, f[rs2]);
                return;
            }
            case FSD -> {
                h.store(x[rs1] + Interpreter.immS(insn), 8, f[rs2]);
                return;
            }
            case FMADD_S -> f[rd] = box(fpu.fmaddS(s(f[rs1]), s(f[rs2]), s(f[rs3]), rm(h, insn)));
            case FMSUB_S -> f[rd] = box(fpu.fmsubS(s(f[rs1]), s(f[rs2]), s(f[rs3]), rm(h, insn)));
            case FNMSUB_S -> f[rd] = box(fpu.fnmsubS(s(f[rs1]), s(f[rs2]), s(f[rs3]), rm(h, insn)));
            case FNMADD_S -> f[rd] = box(fpu.fnmaddS(s(f[rs1]), s(f[rs2]), s(f[rs3]), rm(h, insn)));
            case FADD_S -> f[rd] = box(fpu.addS(s(f[rs1]), s(f[rs2]), rm(h, insn)));
            case FSUB_S -> f[rd] = box(fpu.subS(s(f[rs1]), s(f[rs2]), rm(h, insn)));
            case FMUL_S -> f[rd] = box(fpu.mulS(s(f[rs1]), s(f[rs2]), rm(h, insn)));
            case FDIV_S -> f[rd] = box(fpu.divS(s(f[rs1]), s(f[rs2]), rm(h, insn)));
            case FSQRT_S -> f[rd] = box(fpu.sqrtS(s(f[rs1]), rm(h, insn)));
            case FSGNJ_S -> f[rd] = box((s(f[rs1]) & 0x7fffffff) | (s(f[rs2]) & 0x80000000));
            case FSGNJN_S -> f[rd] = box((s(f[rs1]) & 0x7fffffff) | (~s(f[rs2]) & 0x80000000));
            case FSGNJX_S -> f[rd] = box(s(f[rs1]) ^ (s(f[rs2]) & 0x80000000));
            case FMIN_S -> f[rd] = box(fpu.minS(s(f[rs1]), s(f[rs2])));
            case FMAX_S -> f[rd] = box(fpu.maxS(s(f[rs1]), s(f[rs2])));
            case FCVT_W_S -> setX(x, rd, fpu.cvtWS(s(f[rs1]), rm(h, insn)));
            case FCVT_WU_S -> setX(x, rd, fpu.cvtWuS(s(f[rs1]), rm(h, insn)));
            case FCVT_L_S -> setX(x, rd, fpu.cvtLS(s(f[rs1]), rm(h, insn)));
            case FCVT_LU_S -> setX(x, rd, fpu.cvtLuS(s(f[rs1]), rm(h, insn)));
            case FMV_X_W -> {
                setX(x, rd, (int) f[rs1]);
                return;
            }
            case FCLASS_S -> {
                setX(x, rd, Fpu.classifyS(s(f[rs1])));
                return;
            }
            case FEQ_S -> setX(x, rd, fpu.feqS(s(f[rs1]), s(f[rs2])) ? 1 : 0);
            case FLT_S -> setX(x, rd, fpu.fltS(s(f[rs1]), s(f[rs2])) ? 1 : 0);
            case FLE_S -> setX(x, rd, fpu.fleS(s(f[rs1]), s(f[rs2])) ? 1 : 0);
            case FCVT_S_W -> f[rd] = box(fpu.cvtSW(x[rs1], rm(h, insn)));
            case FCVT_S_WU -> f[rd] = box(fpu.cvtSWu(x[rs1], rm(h, insn)));
            case FCVT_S_L -> f[rd] = box(fpu.cvtSL(x[rs1], rm(h, insn)));
            case FCVT_S_LU -> f[rd] = box(fpu.cvtSLu(x[rs1], rm(h, insn)));
            case FMV_W_X -> f[rd] = box((int) x[rs1]);
            case FMADD_D -> f[rd] = fpu.fmaddD(f[rs1], f[rs2], f[rs3], rm(h, insn));
            case FMSUB_D -> f[rd] = fpu.fmsubD(f[rs1], f[rs2], f[rs3], rm(h, insn));
            case FNMSUB_D -> f[rd] = fpu.fnmsubD(f[rs1], f[rs2], f[rs3], rm(h, insn));
            case FNMADD_D -> f[rd] = fpu.fnmaddD(f[rs1], f[rs2], f[rs3], rm(h, insn));
            case FADD_D -> f[rd] = fpu.addD(f[rs1], f[rs2], rm(h, insn));
            case FSUB_D -> f[rd] = fpu.subD(f[rs1], f[rs2], rm(h, insn));
            case FMUL_D -> f[rd] = fpu.mulD(f[rs1], f[rs2], rm(h, insn));
            case FDIV_D -> f[rd] = fpu.divD(f[rs1], f[rs2], rm(h, insn));
            case FSQRT_D -> f[rd] = fpu.sqrtD(f[rs1], rm(h, insn));
            case FSGNJ_D -> f[rd] = (f[rs1] & Long.MAX_VALUE) | (f[rs2] & Long.MIN_VALUE);
            case FSGNJN_D -> f[rd] = (f[rs1] & Long.MAX_VALUE) | (~f[rs2] & Long.MIN_VALUE);
            case FSGNJX_D -> f[rd] = f[rs1] ^ (f[rs2] & Long.MIN_VALUE);
            case FMIN_D -> f[rd] = fpu.minD(f[rs1], f[rs2]);
            case FMAX_D -> f[rd] = fpu.maxD(f[rs1], f[rs2]);
            case FCVT_S_D -> f[rd] = box(fpu.cvtSD(f[rs1], rm(h, insn)));
            case FCVT_D_S -> {
                rm(h, insn);
                f[rd] = fpu.cvtDS(s(f[rs1]));
            }
            case FEQ_D -> setX(x, rd, fpu.feqD(f[rs1], f[rs2]) ? 1 : 0);
            case FLT_D -> setX(x, rd, fpu.fltD(f[rs1], f[rs2]) ? 1 : 0);
            case FLE_D -> setX(x, rd, fpu.fleD(f[rs1], f[rs2]) ? 1 : 0);
            case FCLASS_D -> {
                setX(x, rd, Fpu.classifyD(f[rs1]));
                return;
            }
            case FCVT_W_D -> setX(x, rd, fpu.cvtWD(f[rs1], rm(h, insn)));
            case FCVT_WU_D -> setX(x, rd, fpu.cvtWuD(f[rs1], rm(h, insn)));
            case FCVT_L_D -> setX(x, rd, fpu.cvtLD(f[rs1], rm(h, insn)));
            case FCVT_LU_D -> setX(x, rd, fpu.cvtLuD(f[rs1], rm(h, insn)));
            case FMV_X_D -> {
                setX(x, rd, f[rs1]);
                return;
            }
            case FCVT_D_W -> f[rd] = fpu.cvtDW(x[rs1], rm(h, insn));
            case FCVT_D_WU -> f[rd] = fpu.cvtDWu(x[rs1], rm(h, insn));
            case FCVT_D_L -> f[rd] = fpu.cvtDL(x[rs1], rm(h, insn));
            case FCVT_D_LU -> f[rd] = fpu.cvtDLu(x[rs1], rm(h, insn));
            case FMV_D_X -> f[rd] = x[rs1];
            default -> throw h.illegal(insn);
        }
        // Any instruction reaching here wrote an FP register or changed fflags.
        h.markFpDirty();
    }

    private static void setX(long[] x, int rd, long v) {
        if (rd != 0) {
            x[rd] = v;
        }
    }
}
