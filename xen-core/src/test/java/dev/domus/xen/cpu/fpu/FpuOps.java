// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

/** Maps RISC-V mnemonics (as used in the reference vectors) onto {@link Fpu} calls, and formats values for reports. */
final class FpuOps {

    static final String[] RM_NAMES = {"RNE", "RTZ", "RDN", "RUP", "RMM"};
    static final String[] FLAG_NAMES = {"NX", "UF", "OF", "DZ", "NV"};

    private FpuOps() {
    }

    /**
     * Runs one instruction. Operands are raw register values (binary32 in the low 32 bits); the result is what the
     * instruction writes to rd: binary32 results zero-extended, comparisons 0/1, integer results as the full register.
     */
    static long execute(Fpu fpu, String op, int rm, long[] x) {
        int a = (int) x[0];
        int b = x.length > 1 ? (int) x[1] : 0;
        int c = x.length > 2 ? (int) x[2] : 0;
        return switch (op) {
            case "fadd.s" -> u(fpu.addS(a, b, rm));
            case "fsub.s" -> u(fpu.subS(a, b, rm));
            case "fmul.s" -> u(fpu.mulS(a, b, rm));
            case "fdiv.s" -> u(fpu.divS(a, b, rm));
            case "fsqrt.s" -> u(fpu.sqrtS(a, rm));
            case "fmadd.s" -> u(fpu.fmaddS(a, b, c, rm));
            case "fmsub.s" -> u(fpu.fmsubS(a, b, c, rm));
            case "fnmsub.s" -> u(fpu.fnmsubS(a, b, c, rm));
            case "fnmadd.s" -> u(fpu.fnmaddS(a, b, c, rm));
            case "fmin.s" -> u(fpu.minS(a, b));
            case "fmax.s" -> u(fpu.maxS(a, b));
            case "feq.s" -> fpu.feqS(a, b) ? 1 : 0;
            case "flt.s" -> fpu.fltS(a, b) ? 1 : 0;
            case "fle.s" -> fpu.fleS(a, b) ? 1 : 0;
            case "fclass.s" -> Fpu.classifyS(a);
            case "fcvt.w.s" -> fpu.cvtWS(a, rm);
            case "fcvt.wu.s" -> fpu.cvtWuS(a, rm);
            case "fcvt.l.s" -> fpu.cvtLS(a, rm);
            case "fcvt.lu.s" -> fpu.cvtLuS(a, rm);
            case "fcvt.s.w" -> u(fpu.cvtSW(x[0], rm));
            case "fcvt.s.wu" -> u(fpu.cvtSWu(x[0], rm));
            case "fcvt.s.l" -> u(fpu.cvtSL(x[0], rm));
            case "fcvt.s.lu" -> u(fpu.cvtSLu(x[0], rm));
            case "fcvt.s.d" -> u(fpu.cvtSD(x[0], rm));
            case "fcvt.d.s" -> fpu.cvtDS(a);
            case "fadd.d" -> fpu.addD(x[0], x[1], rm);
            case "fsub.d" -> fpu.subD(x[0], x[1], rm);
            case "fmul.d" -> fpu.mulD(x[0], x[1], rm);
            case "fdiv.d" -> fpu.divD(x[0], x[1], rm);
            case "fsqrt.d" -> fpu.sqrtD(x[0], rm);
            case "fmadd.d" -> fpu.fmaddD(x[0], x[1], x[2], rm);
            case "fmsub.d" -> fpu.fmsubD(x[0], x[1], x[2], rm);
            case "fnmsub.d" -> fpu.fnmsubD(x[0], x[1], x[2], rm);
            case "fnmadd.d" -> fpu.fnmaddD(x[0], x[1], x[2], rm);
            case "fmin.d" -> fpu.minD(x[0], x[1]);
            case "fmax.d" -> fpu.maxD(x[0], x[1]);
            case "feq.d" -> fpu.feqD(x[0], x[1]) ? 1 : 0;
            case "flt.d" -> fpu.fltD(x[0], x[1]) ? 1 : 0;
            case "fle.d" -> fpu.fleD(x[0], x[1]) ? 1 : 0;
            case "fclass.d" -> Fpu.classifyD(x[0]);
            case "fcvt.w.d" -> fpu.cvtWD(x[0], rm);
            case "fcvt.wu.d" -> fpu.cvtWuD(x[0], rm);
            case "fcvt.l.d" -> fpu.cvtLD(x[0], rm);
            case "fcvt.lu.d" -> fpu.cvtLuD(x[0], rm);
            case "fcvt.d.w" -> fpu.cvtDW(x[0], rm);
            case "fcvt.d.wu" -> fpu.cvtDWu(x[0], rm);
            case "fcvt.d.l" -> fpu.cvtDL(x[0], rm);
            case "fcvt.d.lu" -> fpu.cvtDLu(x[0], rm);
            default -> throw new IllegalArgumentException("unknown op in vector file: " + op);
        };
    }

    private static long u(int bits) {
        return bits & 0xffffffffL;
    }

    /** Hex bits, followed by the value when it is a binary32/binary64 operand or result. */
    static String describe(String op, long v, boolean operand) {
        String hex = "0x" + Long.toHexString(v);
        return switch (format(op, operand)) {
            case 'S' -> hex + "(" + Float.intBitsToFloat((int) v) + ")";
            case 'D' -> hex + "(" + Double.longBitsToDouble(v) + ")";
            default -> hex;
        };
    }

    /** 'S', 'D' or 'X' (integer register) for the operands or the result of a mnemonic. */
    private static char format(String op, boolean operand) {
        if (op.startsWith("fcvt.")) {
            String[] parts = op.split("\\.");
            String side = operand ? parts[2] : parts[1];
            return side.equals("s") ? 'S' : side.equals("d") ? 'D' : 'X';
        }
        if (!operand && (op.startsWith("fclass") || op.matches("f(eq|lt|le)\\..*"))) {
            return 'X';
        }
        return op.endsWith(".s") ? 'S' : 'D';
    }

    static String flagNames(int flags) {
        if (flags == 0) {
            return "{}";
        }
        StringBuilder sb = new StringBuilder("{");
        for (int i = 4; i >= 0; i--) {
            if ((flags & (1 << i)) != 0) {
                sb.append(sb.length() > 1 ? "," : "").append(FLAG_NAMES[i]);
            }
        }
        return sb.append('}').toString();
    }
}
