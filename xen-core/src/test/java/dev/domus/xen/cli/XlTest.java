// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.domain.DomainInfo;
import dev.domus.xen.domain.DomainState;
import dev.domus.xen.domain.RunDir;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class XlTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int xl(Map<String, String> env, String... args) {
        RunDir runDir = RunDir.at(tmp.resolve("run/xl"));
        return new Xl(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), runDir, env).run(args);
    }

    private int xl(String... args) {
        return xl(Map.of(), args);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpGoesToStdout() {
        assertThat(xl("help")).isZero();
        assertThat(out()).startsWith("Usage: xl <command>").contains("create <cfg> [-c] [-p]");
        assertThat(err()).isEmpty();
    }

    @Test
    void noArgumentsPrintsUsageAndFails() {
        assertThat(xl()).isEqualTo(2);
        assertThat(err()).startsWith("Usage: xl");
    }

    @Test
    void usageErrorsAreOneLine() {
        assertThat(xl("frob")).isEqualTo(2);
        assertThat(xl("create")).isEqualTo(2);
        assertThat(xl("create", "a.cfg", "-x")).isEqualTo(2);
        assertThat(xl("shutdown", "-t")).isEqualTo(2);
        assertThat(xl("shutdown", "-t", "soon", "demo")).isEqualTo(2);
        assertThat(err()).isEqualTo("""
                xl: unknown command 'frob' (see 'xl help')
                xl: create: wrong number of arguments; usage: xl create <cfg> [-c] [-p]
                xl: create: unknown option '-x'; usage: xl create <cfg> [-c] [-p]
                xl: shutdown: -t needs a value; usage: xl shutdown [-w] [-t <secs>] <dom>
                xl: shutdown: -t needs a positive number of seconds, got 'soon'
                """);
    }

    @Test
    void verbsOnAMissingDomainSayItDoesNotExist() {
        for (String verb : List.of("console", "destroy", "pause", "unpause", "reboot", "shutdown")) {
            assertThat(xl(verb, "foo")).as(verb).isEqualTo(1);
        }
        assertThat(xl("list", "foo")).isEqualTo(1);
        assertThat(xl("pause", "bad/name")).isEqualTo(1);
        assertThat(err()).isEqualTo("xl: domain 'foo' does not exist\n".repeat(7)
                + "xl: domain 'bad/name' does not exist\n");
    }

    @Test
    void listOfAnEmptyHostIsJustTheHeader() {
        assertThat(xl("list")).isZero();
        assertThat(out()).isEqualTo(Xl.formatList(List.of()));
        assertThat(out().lines().toList()).hasSize(1);
    }

    @Test
    void listFormatsLikeXl() {
        String text = Xl.formatList(List.of(
                new DomainInfo("demo", DomainState.RUNNING, 4242, 1, 256, 10_000, 12_345, 99, "/x/demo.cfg", 0),
                new DomainInfo("web-2", DomainState.PAUSED, 77, 2, 1024, 0, 0, 0, "/x/web.cfg", 1)));
        assertThat(text.lines().toList()).containsExactly(
                "Name                                   ID    Mem VCPUs    State   Time(s)",
                "demo                                 4242    256     1   r-----      12.3",
                "web-2                                  77   1024     2   --p---       0.0");
    }

    @Test
    void createReportsConfigErrorsWithFileAndLine() throws IOException {
        Path cfg = tmp.resolve("bad.cfg");
        Files.writeString(cfg, "name = 'd'\nmemory = 0\n");
        assertThat(xl("create", cfg.toString())).isEqualTo(1);
        assertThat(err()).isEqualTo("xl: " + cfg + ":2: memory must be 16..65536 MiB, got 0\n");
    }

    @Test
    void infoDescribesTheHost() {
        assertThat(xl("info")).isZero();
        assertThat(out()).contains("nr_cpus         : " + Runtime.getRuntime().availableProcessors())
                .contains("run_dir         : " + tmp.resolve("run/xl"))
                .contains("nr_domains      : 0");
    }

    /** Spawns a real runner JVM; until the CPU engine is merged its machine factory refuses, which xl reports. */
    @Test
    void createStartsARunnerProcessAndRelaysItsStartupError() throws IOException {
        byte[] image = new byte[64];
        System.arraycopy("RISCV\0\0\0RSC\u0005".getBytes(StandardCharsets.ISO_8859_1), 0, image, 48, 12);
        Files.write(tmp.resolve("Image"), image);
        Path cfg = tmp.resolve("demo.cfg");
        Files.writeString(cfg, "name = 'demo'\nkernel = '${DIR}/Image'\n");

        int status = xl(Map.of("DIR", tmp.toString()), "create", cfg.toString());

        Path log = tmp.resolve("run/xl/demo.log");
        assertThat(log).exists();
        if (status == 0) {
            // The engine is merged: a real domain is running; take it down again.
            assertThat(xl("destroy", "demo")).isZero();
            return;
        }
        assertThat(status).isEqualTo(1);
        assertThat(err()).isEqualTo("xl: cannot create machine for domain 'demo': CPU engine not merged yet\n");
        assertThat(Files.readString(log)).contains("event=startup_failed").contains("CPU engine not merged yet");
        assertThat(RunDir.at(tmp.resolve("run/xl")).domainNames()).isEmpty();
    }
}
