// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

/**
 * The C extension: every 16-bit encoding is expanded once, at class-load time, into the equivalent 32-bit
 * instruction, so the interpreter executes one instruction set. Reserved encodings expand to 0 (illegal).
 * HINT encodings (e.g. C.NOP with a non-zero immediate) expand to their architectural no-op forms.
 */
public final class Rvc {
    private static final int[] TABLE = new int[1 << 16];

    static {
        for (int i = 0; i < (1 << 16); i++) {
            TABLE[i] = (i & 3) == 3 ? 0 : expand(i);
        }
    }

    private Rvc() {
    }

    /** The 32-bit equivalent of compressed instruction {@code c} (low 16 bits), or 0 when it is illegal. */
    public static int expanded(int c) {
        return TABLE[c & 0xffff];
    }

    private static int bit(int c, int b) {
        return (c >>> b) & 1;
    }

    private static int bits(int c, int hi, int lo) {
        return (c >>> lo) & ((1 << (hi - lo + 1)) - 1);
    }

    private static int signExtend(int v, int width) {
        int s = 32 - width;
        return (v << s) >> s;
    }

    static int iType(int imm, int rs1, int f3, int rd, int opc) {
        return ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
    }

    static int sType(int imm, int rs2, int rs1, int f3, int opc) {
        return (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | opc;
    }

    static int rType(int f7, int rs2, int rs1, int f3, int rd, int opc) {
        return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
    }

    static int bType(int imm, int rs2, int rs1, int f3, int opc) {
        return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12)
                | (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | opc;
    }

    static int jType(int imm, int rd, int opc) {
        return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20)
                | (((imm >> 12) & 0xff) << 12) | (rd << 7) | opc;
    }

    private static final int OP_LOAD = 0x03;
    private static final int OP_LOAD_FP = 0x07;
    private static final int OP_IMM = 0x13;
    private static final int OP_IMM32 = 0x1b;
    private static final int OP_STORE = 0x23;
    private static final int OP_STORE_FP = 0x27;
    private static final int OP = 0x33;
    private static final int OP_LUI = 0x37;
    private static final int OP_32 = 0x3b;
    private static final int OP_BRANCH = 0x63;
    private static final int OP_JALR = 0x67;
    private static final int OP_JAL = 0x6f;
    private static final int EBREAK = 0x00100073;

    private static int expand(int c) {
        int quadrant = c & 3;
        int f3 = bits(c, 15, 13);
        int rdFull = bits(c, 11, 7);
        int rs2Full = bits(c, 6, 2);
        int rdP = bits(c, 4, 2) + 8;
        int rs1P = bits(c, 9, 7) + 8;
        int imm6 = signExtend((bit(c, 12) << 5) | bits(c, 6, 2), 6);
        switch (quadrant) {
            case 0 -> {
                switch (f3) {
                    case 0 -> { // C.ADDI4SPN
                        int nz = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3);
                        return nz == 0 ? 0 : iType(nz, 2, 0, rdP, OP_IMM);
                    }
                    case 1 -> { // C.FLD
                        int off = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
                        return iType(off, rs1P, 3, rdP, OP_LOAD_FP);
                    }
                    case 2 -> { // C.LW
                        int off = (bits(c, 12, 10) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6);
                        return iType(off, rs1P, 2, rdP, OP_LOAD);
                    }
                    case 3 -> { // C.LD
                        int off = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
                        return iType(off, rs1P, 3, rdP, OP_LOAD);
                    }
                    case 5 -> { // C.FSD
                        int off = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
                        return sType(off, rdP, rs1P, 3, OP_STORE_FP);
                    }
                    case 6 -> { // C.SW
                        int off = (bits(c, 12, 10) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6);
                        return sType(off, rdP, rs1P, 2, OP_STORE);
                    }
                    case 7 -> { // C.SD
                        int off = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
                        return sType(off, rdP, rs1P, 3, OP_STORE);
                    }
                    default -> {
                        return 0;
                    }
                }
            }
            case 1 -> {
                switch (f3) {
                    case 0 -> { // C.ADDI / C.NOP
                        return iType(imm6, rdFull, 0, rdFull, OP_IMM);
                    }
                    case 1 -> { // C.ADDIW
                        return rdFull == 0 ? 0 : iType(imm6, rdFull, 0, rdFull, OP_IMM32);
                    }
                    case 2 -> { // C.LI
                        return iType(imm6, 0, 0, rdFull, OP_IMM);
                    }
                    case 3 -> {
                        if (rdFull == 2) { // C.ADDI16SP
                            int nz = (bit(c, 12) << 9) | (bit(c, 6) << 4) | (bit(c, 5) << 6) | (bits(c, 4, 3) << 7)
                                    | (bit(c, 2) << 5);
                            nz = signExtend(nz, 10);
                            return nz == 0 ? 0 : iType(nz, 2, 0, 2, OP_IMM);
                        }
                        int nz = signExtend((bit(c, 12) << 17) | (bits(c, 6, 2) << 12), 18);
                        return nz == 0 ? 0 : (nz & 0xfffff000) | (rdFull << 7) | OP_LUI; // C.LUI
                    }
                    case 4 -> {
                        int shamt = (bit(c, 12) << 5) | bits(c, 6, 2);
                        switch (bits(c, 11, 10)) {
                            case 0 -> {
                                return iType(shamt, rs1P, 5, rs1P, OP_IMM); // C.SRLI
                            }
                            case 1 -> {
                                return iType(shamt | 0x400, rs1P, 5, rs1P, OP_IMM); // C.SRAI
                            }
                            case 2 -> {
                                return iType(imm6, rs1P, 7, rs1P, OP_IMM); // C.ANDI
                            }
                            default -> {
                                int rs2P = bits(c, 4, 2) + 8;
                                int sel = bits(c, 6, 5);
                                if (bit(c, 12) == 0) {
                                    return switch (sel) {
                                        case 0 -> rType(0x20, rs2P, rs1P, 0, rs1P, OP); // C.SUB
                                        case 1 -> rType(0, rs2P, rs1P, 4, rs1P, OP); // C.XOR
                                        case 2 -> rType(0, rs2P, rs1P, 6, rs1P, OP); // C.OR
                                        default -> rType(0, rs2P, rs1P, 7, rs1P, OP); // C.AND
                                    };
                                }
                                return switch (sel) {
                                    case 0 -> rType(0x20, rs2P, rs1P, 0, rs1P, OP_32); // C.SUBW
                                    case 1 -> rType(0, rs2P, rs1P, 0, rs1P, OP_32); // C.ADDW
                                    default -> 0;
                                };
                            }
                        }
                    }
                    case 5 -> { // C.J
                        int off = (bit(c, 12) << 11) | (bit(c, 11) << 4) | (bits(c, 10, 9) << 8) | (bit(c, 8) << 10)
                                | (bit(c, 7) << 6) | (bit(c, 6) << 7) | (bits(c, 5, 3) << 1) | (bit(c, 2) << 5);
                        return jType(signExtend(off, 12), 0, OP_JAL);
                    }
                    default -> { // C.BEQZ / C.BNEZ
                        int off = (bit(c, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6)
                                | (bits(c, 4, 3) << 1) | (bit(c, 2) << 5);
                        return bType(signExtend(off, 9), 0, rs1P, f3 == 6 ? 0 : 1, OP_BRANCH);
                    }
                }
            }
            default -> {
                switch (f3) {
                    case 0 -> { // C.SLLI
                        int shamt = (bit(c, 12) << 5) | bits(c, 6, 2);
                        return iType(shamt, rdFull, 1, rdFull, OP_IMM);
                    }
                    case 1 -> { // C.FLDSP
                        int off = (bit(c, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
                        return iType(off, 2, 3, rdFull, OP_LOAD_FP);
                    }
                    case 2 -> { // C.LWSP
                        int off = (bit(c, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6);
                        return rdFull == 0 ? 0 : iType(off, 2, 2, rdFull, OP_LOAD);
                    }
                    case 3 -> { // C.LDSP
                        int off = (bit(c, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
                        return rdFull == 0 ? 0 : iType(off, 2, 3, rdFull, OP_LOAD);
                    }
                    case 4 -> {
                        if (bit(c, 12) == 0) {
                            if (rs2Full == 0) { // C.JR
                                return rdFull == 0 ? 0 : iType(0, rdFull, 0, 0, OP_JALR);
                            }
                            return rType(0, rs2Full, 0, 0, rdFull, OP); // C.MV
                        }
                        if (rs2Full == 0) {
                            if (rdFull == 0) {
                                return EBREAK; // C.EBREAK
                            }
                            return iType(0, rdFull, 0, 1, OP_JALR); // C.JALR
                        }
                        return rType(0, rs2Full, rdFull, 0, rdFull, OP); // C.ADD
                    }
                    case 5 -> { // C.FSDSP
                        int off = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
                        return sType(off, rs2Full, 2, 3, OP_STORE_FP);
                    }
                    case 6 -> { // C.SWSP
                        int off = (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6);
                        return sType(off, rs2Full, 2, 2, OP_STORE);
                    }
                    default -> { // C.SDSP
                        int off = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
                        return sType(off, rs2Full, 2, 3, OP_STORE);
                    }
                }
            }
        }
    }
}
