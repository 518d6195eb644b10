// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Differential test against vectors produced by real RISC-V instructions under QEMU (see
 * {@code src/test/fpu-ref/generate}): every vector's result bits and fflags must match exactly.
 */
class FpuReferenceVectorsTest {

    private static final String RESOURCE = "fpu-vectors.txt.gz";
    private static final int MAX_REPORTED = 25;
    private static final String[] RM_NAMES = {"RNE", "RTZ", "RDN", "RUP", "RMM"};

    /** Per mnemonic: [passed, failed]. */
    private final Map<String, int[]> tally = new TreeMap<>();
    private final List<String> mismatches = new ArrayList<>();
    private final Fpu fpu = new Fpu();

    @Test
    void matchesRiscvReference() throws IOException {
        int total = 0;
        try (InputStream raw = FpuReferenceVectorsTest.class.getResourceAsStream(RESOURCE)) {
            assertThat(raw).as("test resource %s (regenerate with src/test/fpu-ref/generate)", RESOURCE).isNotNull();
            BufferedReader in = new BufferedReader(
                    new InputStreamReader(new GZIPInputStream(raw, 1 << 16), StandardCharsets.US_ASCII));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty() || line.charAt(0) == '#') {
                    continue;
                }
                check(line);
                total++;
            }
        }
        StringBuilder summary = new StringBuilder("fpu reference vectors: ").append(total).append('\n');
        tally.forEach((op, c) -> summary.append(String.format("  %-10s %6d passed %6d failed%n", op, c[0], c[1])));
        System.out.print(summary);
        assertThat(total).as("vector count").isGreaterThan(100_000);
        assertThat(mismatches).as("mismatches (first %d shown)%n%s", MAX_REPORTED, summary).isEmpty();
    }

    private void check(String line) {
        String[] f = line.split(" ");
        String op = f[0];
        int rm = Integer.parseInt(f[1]);
        int nin = f.length - 4;
        long[] in = new long[nin];
        for (int i = 0; i < nin; i++) {
            in[i] = Long.parseUnsignedLong(f[2 + i], 16);
        }
        long expected = Long.parseUnsignedLong(f[2 + nin], 16);
        int expectedFlags = Integer.parseInt(f[3 + nin], 16);
        fpu.setFlags(0);
        long actual = execute(op, rm, in);
        int actualFlags = fpu.flags();
        int[] c = tally.computeIfAbsent(op, k -> new int[2]);
        if (actual == expected && actualFlags == expectedFlags) {
            c[0]++;
            return;
        }
        c[1]++;
        if (mismatches.size() < MAX_REPORTED) {
            StringBuilder sb = new StringBuilder(op).append(" rm=").append(RM_NAMES[rm]);
            for (long v : in) {
                sb.append(' ').append(describe(op, v, true));
            }
            sb.append(": expected ").append(describe(op, expected, false)).append(' ').append(flagNames(expectedFlags))
                    .append(", got ").append(describe(op, actual, false)).append(' ').append(flagNames(actualFlags));
            mismatches.add(sb.toString());
        }
    }

    private long execute(String op, int rm, long[] x) {
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

    /** Hex bits plus the value, when the operand or result is a float of the op's format. */
    private static String describe(String op, long v, boolean operand) {
        String hex = "0x" + Long.toHexString(v);
        boolean intSide = operand ? op.matches("fcvt\\.[sd]\\.[wl]u?") : op.matches("fcvt\\.[wl]u?\\.[sd]|fclass.*|f(eq|lt|le)\\..");
        if (intSide) {
            return hex;
        }
        boolean single = operand ? op.endsWith(".s") : op.endsWith(".s") && !op.startsWith("fcvt.d") || op.startsWith("fcvt.s");
        if (op.equals("fcvt.s.d")) {
            single = !operand;
        }
        return hex + (single ? "(" + Float.intBitsToFloat((int) v) + ")" : "(" + Double.longBitsToDouble(v) + ")");
    }

    static String flagNames(int flags) {
        if (flags == 0) {
            return "{}";
        }
        StringBuilder sb = new StringBuilder("{");
        String[] names = {"NX", "UF", "OF", "DZ", "NV"};
        for (int i = 4; i >= 0; i--) {
            if ((flags & (1 << i)) != 0) {
                sb.append(sb.length() > 1 ? "," : "").append(names[i]);
            }
        }
        return sb.append('}').toString();
    }
}
