// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks the decoder and the RVC expansion against encodings produced by an independent tool, the GNU assembler
 * (vectors and the script that made them: src/test/isa-ref/).
 */
class IsaVectorTest {
    private static List<String[]> vectors(String name) throws IOException {
        List<String[]> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                IsaVectorTest.class.getResourceAsStream("/isa/" + name), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    out.add(line.split(" ", 3));
                }
            }
        }
        return out;
    }

    @Test
    void decoderNamesEveryAssembledInstruction() throws IOException {
        List<String[]> v = vectors("decode-vectors.txt");
        assertThat(v).hasSizeGreaterThan(150);
        for (String[] row : v) {
            int insn = (int) Long.parseLong(row[0], 16);
            assertThat(Decoder.decode(insn).name()).as("decode %s", row[0]).isEqualTo(row[1]);
        }
    }

    @Test
    void everyOpIsCoveredByTheVectors() throws IOException {
        List<String> names = new ArrayList<>();
        for (String[] row : vectors("decode-vectors.txt")) {
            names.add(row[1]);
        }
        for (Op op : Op.values()) {
            if (op != Op.ILLEGAL) {
                assertThat(names).as("vector for %s", op).contains(op.name());
            }
        }
    }

    @Test
    void patternsAreUnambiguous() {
        assertThat(Decoder.ambiguities()).isEmpty();
    }

    @Test
    void compressedExpandsLikeTheAssembler() throws IOException {
        List<String[]> v = vectors("rvc-vectors.txt");
        assertThat(v).hasSizeGreaterThan(60);
        for (String[] row : v) {
            int c = Integer.parseInt(row[0], 16);
            int expected = (int) Long.parseLong(row[1], 16);
            assertThat(Integer.toHexString(Rvc.expanded(c))).as("%s (%s)", row[2], row[0])
                    .isEqualTo(Integer.toHexString(expected));
        }
    }

    @Test
    void reservedCompressedEncodingsAreIllegal() {
        int[] reserved = {
            0x0000, // all zeros (C.ADDI4SPN with imm 0)
            0x4002, // C.LWSP rd=0
            0x6002, // C.LDSP rd=0
            0x8002, // C.JR rs1=0
            0x6101 & ~0x107c, // C.ADDI16SP imm=0 (0x6101 with imm bits cleared)
            0x6281 & ~0x107c, // C.LUI rd=5 imm=0
            0x2001, // C.ADDIW rd=0
            0x8000, // quadrant 0 funct3 100: reserved
            0x9c41 | 0x0040, // C.SUBW/ADDW space with bits 6:5 = 10 (reserved)
        };
        for (int c : reserved) {
            assertThat(Rvc.expanded(c)).as("0x%04x", c).isZero();
        }
    }

    @Test
    void garbageNeverDecodesToSomethingUnexpected() {
        java.util.Random rnd = new java.util.Random(42);
        for (int i = 0; i < 200_000; i++) {
            int insn = rnd.nextInt() | 3;
            Op op = Decoder.decode(insn);
            if (op != Op.ILLEGAL) {
                assertThat(op.matches(insn)).isTrue();
            }
        }
    }
}
