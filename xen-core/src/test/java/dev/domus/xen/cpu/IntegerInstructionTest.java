// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RV64I and M register-register and immediate instructions, table-driven with the edge cases of the spec. */
class IntegerInstructionTest {
    private static final int OP = 0x33;
    private static final int OP32 = 0x3b;

    @ParameterizedTest(name = "{0} {1} {2} = {3}")
    @CsvSource({
        // name, a, b, expected (hex, two's complement)
        "ADD, 7fffffffffffffff, 1, 8000000000000000",
        "SUB, 0, 1, ffffffffffffffff",
        "SLL, 1, 43, 0000000000000008", // shift amount uses low 6 bits (0x43 & 63 = 3)
        "SLT, ffffffffffffffff, 0, 1",
        "SLTU, ffffffffffffffff, 0, 0",
        "SRL, 8000000000000000, 3f, 1",
        "SRA, 8000000000000000, 3f, ffffffffffffffff",
        "XOR, ff00, 0ff0, f0f0",
        "OR, ff00, 0ff0, fff0",
        "AND, ff00, 0ff0, 0f00",
        "ADDW, 7fffffff, 1, ffffffff80000000",
        "SUBW, 0, 80000000, ffffffff80000000",
        "SLLW, 1, 1f, ffffffff80000000",
        "SRLW, ffffffff80000000, 1f, 1",
        "SRAW, 80000000, 1f, ffffffffffffffff",
        "SRLW, 8000000000000001, 20, 1", // low 5 bits of the shift amount, upper input bits ignored
        "MUL, ffffffffffffffff, ffffffffffffffff, 1",
        "MULH, 8000000000000000, 8000000000000000, 4000000000000000",
        "MULHU, ffffffffffffffff, ffffffffffffffff, fffffffffffffffe",
        "MULHSU, ffffffffffffffff, ffffffffffffffff, ffffffffffffffff",
        "MULHSU, 2, 8000000000000000, 1",
        "DIV, 8000000000000000, ffffffffffffffff, 8000000000000000", // overflow
        "DIV, 5, 0, ffffffffffffffff", // division by zero
        "DIV, fffffffffffffff9, 2, fffffffffffffffd", // rounds toward zero
        "DIVU, 5, 0, ffffffffffffffff",
        "DIVU, ffffffffffffffff, 2, 7fffffffffffffff",
        "REM, 8000000000000000, ffffffffffffffff, 0",
        "REM, 5, 0, 5",
        "REM, fffffffffffffff9, 2, ffffffffffffffff",
        "REMU, 5, 0, 5",
        "MULW, 7fffffff, 2, fffffffffffffffe",
        "DIVW, 80000000, ffffffff, ffffffff80000000",
        "DIVW, 5, 0, ffffffffffffffff",
        "DIVUW, ffffffff, 2, 7fffffff",
        "DIVUW, 5, 100000000, ffffffffffffffff", // divisor's low word is zero
        "REMW, 80000000, ffffffff, 0",
        "REMW, fffffff9, 0, fffffffffffffff9",
        "REMUW, fffffff9, 0, fffffffffffffff9",
    })
    void registerRegister(String name, String a, String b, String expected) {
        int[] enc = switch (name) {
            case "ADD" -> new int[] {0, 0, OP};
            case "SUB" -> new int[] {0x20, 0, OP};
            case "SLL" -> new int[] {0, 1, OP};
            case "SLT" -> new int[] {0, 2, OP};
            case "SLTU" -> new int[] {0, 3, OP};
            case "XOR" -> new int[] {0, 4, OP};
            case "SRL" -> new int[] {0, 5, OP};
            case "SRA" -> new int[] {0x20, 5, OP};
            case "OR" -> new int[] {0, 6, OP};
            case "AND" -> new int[] {0, 7, OP};
            case "ADDW" -> new int[] {0, 0, OP32};
            case "SUBW" -> new int[] {0x20, 0, OP32};
            case "SLLW" -> new int[] {0, 1, OP32};
            case "SRLW" -> new int[] {0, 5, OP32};
            case "SRAW" -> new int[] {0x20, 5, OP32};
            case "MUL" -> new int[] {1, 0, OP};
            case "MULH" -> new int[] {1, 1, OP};
            case "MULHSU" -> new int[] {1, 2, OP};
            case "MULHU" -> new int[] {1, 3, OP};
            case "DIV" -> new int[] {1, 4, OP};
            case "DIVU" -> new int[] {1, 5, OP};
            case "REM" -> new int[] {1, 6, OP};
            case "REMU" -> new int[] {1, 7, OP};
            case "MULW" -> new int[] {1, 0, OP32};
            case "DIVW" -> new int[] {1, 4, OP32};
            case "DIVUW" -> new int[] {1, 5, OP32};
            case "REMW" -> new int[] {1, 6, OP32};
            case "REMUW" -> new int[] {1, 7, OP32};
            default -> throw new IllegalArgumentException(name);
        };
        CpuRig rig = new CpuRig().x(11, Long.parseUnsignedLong(a, 16)).x(12, Long.parseUnsignedLong(b, 16));
        rig.exec(CpuRig.r(enc[0], 12, 11, enc[1], 10, enc[2]));
        assertThat(Long.toHexString(rig.x(10))).isEqualTo(Long.toHexString(Long.parseUnsignedLong(expected, 16)));
        assertThat(rig.h.pc).isEqualTo(CpuRig.RAM + 4);
    }

    @ParameterizedTest(name = "{0} {1}, imm {2} = {3}")
    @CsvSource({
        "ADDI, 1, -1, 0",
        "ADDI, 7fffffffffffffff, 1, 8000000000000000",
        "SLTI, fffffffffffffffe, -1, 1",
        "SLTIU, 0, -1, 1", // immediate is sign-extended then compared unsigned
        "XORI, 0, -1, ffffffffffffffff",
        "ANDI, ffffffffffffffff, -2048, fffffffffffff800",
        "ADDIW, 7fffffff, 1, ffffffff80000000",
        "ADDIW, ffffffff00000001, 0, 1", // sext.w
        "SLLI, 1, 63, 8000000000000000",
        "SRLI, 8000000000000000, 63, 1",
        "SRAI, 8000000000000000, 63, ffffffffffffffff",
        "SLLIW, 1, 31, ffffffff80000000",
        "SRLIW, 80000000, 31, 1",
        "SRAIW, 80000000, 31, ffffffffffffffff",
    })
    void immediate(String name, String a, int imm, String expected) {
        int insn = switch (name) {
            case "ADDI" -> CpuRig.i(imm, 11, 0, 10, 0x13);
            case "SLTI" -> CpuRig.i(imm, 11, 2, 10, 0x13);
            case "SLTIU" -> CpuRig.i(imm, 11, 3, 10, 0x13);
            case "XORI" -> CpuRig.i(imm, 11, 4, 10, 0x13);
            case "ANDI" -> CpuRig.i(imm, 11, 7, 10, 0x13);
            case "ADDIW" -> CpuRig.i(imm, 11, 0, 10, 0x1b);
            case "SLLI" -> CpuRig.i(imm, 11, 1, 10, 0x13);
            case "SRLI" -> CpuRig.i(imm, 11, 5, 10, 0x13);
            case "SRAI" -> CpuRig.i(imm | 0x400, 11, 5, 10, 0x13);
            case "SLLIW" -> CpuRig.i(imm, 11, 1, 10, 0x1b);
            case "SRLIW" -> CpuRig.i(imm, 11, 5, 10, 0x1b);
            case "SRAIW" -> CpuRig.i(imm | 0x400, 11, 5, 10, 0x1b);
            default -> throw new IllegalArgumentException(name);
        };
        CpuRig rig = new CpuRig().x(11, Long.parseUnsignedLong(a, 16)).exec(insn);
        assertThat(Long.toHexString(rig.x(10))).isEqualTo(Long.toHexString(Long.parseUnsignedLong(expected, 16)));
    }

    @ParameterizedTest(name = "x0 stays zero after {0}")
    @CsvSource({"ADDI", "LUI", "JAL"})
    void writesToX0AreDiscarded(String name) {
        int insn = switch (name) {
            case "ADDI" -> CpuRig.i(5, 0, 0, 0, 0x13);
            case "LUI" -> 0x12345037;
            default -> 0x0080006f; // jal x0, +8
        };
        CpuRig rig = new CpuRig().exec(insn);
        assertThat(rig.x(0)).isZero();
    }
}
