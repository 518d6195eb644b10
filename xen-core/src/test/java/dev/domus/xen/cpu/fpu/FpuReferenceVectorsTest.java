// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** Per mnemonic: [passed, failed]. */
    private final Map<String, int[]> tally = new TreeMap<>();
    private final List<String> mismatches = new ArrayList<>();
    private final Fpu fpu = new Fpu();

    @Test
    void matchesRiscvReference() throws IOException {
        int total = 0;
        // -Dfpu.vectors=/path/to/file.txt.gz checks a different (e.g. bigger, differently seeded) vector set.
        String override = System.getProperty("fpu.vectors");
        try (InputStream raw = override != null ? Files.newInputStream(Path.of(override))
                : FpuReferenceVectorsTest.class.getResourceAsStream(RESOURCE)) {
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
        assertThat(total).as("vector count").isGreaterThan(override != null ? 0 : 100_000);
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
        long actual = FpuOps.execute(fpu, op, rm, in);
        int actualFlags = fpu.flags();
        int[] c = tally.computeIfAbsent(op, k -> new int[2]);
        if (actual == expected && actualFlags == expectedFlags) {
            c[0]++;
            return;
        }
        c[1]++;
        if (mismatches.size() < MAX_REPORTED) {
            StringBuilder sb = new StringBuilder(op).append(" rm=").append(FpuOps.RM_NAMES[rm]);
            for (long v : in) {
                sb.append(' ').append(FpuOps.describe(op, v, true));
            }
            sb.append(": expected ").append(FpuOps.describe(op, expected, false))
                    .append(' ').append(FpuOps.flagNames(expectedFlags))
                    .append(", got ").append(FpuOps.describe(op, actual, false))
                    .append(' ').append(FpuOps.flagNames(actualFlags));
            mismatches.add(sb.toString());
        }
    }
}
