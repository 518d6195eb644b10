// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Assembles the bare-metal privileged-architecture tests in src/test/baremetal with the Debian RISC-V cross
 * toolchain and runs each on xen-core in M-mode without firmware; a test passes when it writes 1 to tohost.
 */
class BareMetalIT {
    private static final Path SRC = Path.of("src/test/baremetal");
    private static final Path OUT = Path.of("target/baremetal");

    @TestFactory
    Stream<DynamicTest> privilegedArchitectureTests() throws IOException {
        Files.createDirectories(OUT);
        List<Path> sources;
        try (Stream<Path> s = Files.list(SRC)) {
            sources = s.filter(p -> p.toString().endsWith(".S")).sorted().toList();
        }
        assertThat(sources).hasSizeGreaterThanOrEqualTo(4);
        return sources.stream().map(src -> DynamicTest.dynamicTest(src.getFileName().toString(), () -> {
            String name = src.getFileName().toString().replace(".S", "");
            Path elf = OUT.resolve(name + ".elf");
            assemble(src, elf);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = RunElf.run(new String[] {"--timeout-s", "60", elf.toString()},
                    new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
            int expected = name.startsWith("fails-at-") ? Integer.parseInt(name.substring(9)) : 0;
            assertThat(status).as("%s exit status (test number that failed; stderr: %s)", name, err).isEqualTo(expected);
        }));
    }

    private static void assemble(Path src, Path elf) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("riscv64-linux-gnu-gcc", "-march=rv64gc", "-mabi=lp64d", "-nostdlib",
                "-nostartfiles", "-static", "-T", SRC.resolve("link.ld").toString(), "-o", elf.toString(),
                src.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("assembling %s: %s", src, out).isZero();
    }
}
