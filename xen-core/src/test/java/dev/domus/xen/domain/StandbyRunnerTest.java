// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link StandbyRunner}'s command line, its one stdin command (round trip, refusals), the console marker scan, and a
 * standby that is released (end of stdin) or sent a bad command leaves nothing in the run directory.
 */
class StandbyRunnerTest {
    @TempDir
    Path tmp;

    @Test
    void argsWithAndWithoutWarmup() {
        StandbyRunner.Args plain = StandbyRunner.Args.parse(new String[] {"--standby", "--run-dir", "/r"});
        assertThat(plain.runDir()).isEqualTo(Path.of("/r"));
        assertThat(plain.warmup()).isEmpty();
        StandbyRunner.Args w = StandbyRunner.Args.parse(new String[] {"--standby", "--warmup", "/t.snap",
                "--warmup-config", "/w.cfg", "--warmup-line", "resume 00", "--warmup-until", "READY",
                "--warmup-timeout", "30"});
        assertThat(w.warmup()).contains(new StandbyRunner.Warmup(Path.of("/t.snap"), Path.of("/w.cfg"), "resume 00",
                "READY", Duration.ofSeconds(30)));
        assertThatThrownBy(() -> StandbyRunner.Args.parse(new String[] {"--standby", "--warmup", "/t.snap"}))
                .hasMessageContaining("--warmup and --warmup-config go together");
        assertThatThrownBy(() -> StandbyRunner.Args.parse(new String[] {"--standby", "--warmup-timeout", "0"}))
                .hasMessageContaining("1..3600");
        assertThatThrownBy(() -> StandbyRunner.Args.parse(new String[] {"--standby", "--bogus"}))
                .hasMessageContaining("unknown argument '--bogus'");
        assertThatThrownBy(() -> StandbyRunner.Args.parse(new String[] {"--standby", "--run-dir"}))
                .hasMessageContaining("--run-dir needs a value");
    }

    @Test
    void restoreCommandRoundTripsAndRefusesBadLines() {
        String line = StandbyRunner.Restore.format(Path.of("/s/t.snap"), Optional.of(Path.of("/c/v.cfg")), true);
        assertThat(StandbyRunner.Restore.parse(line)).isEqualTo(new StandbyRunner.Restore(Path.of("/s/t.snap"),
                Optional.of(Path.of("/c/v.cfg")), true));
        String noCfg = StandbyRunner.Restore.format(Path.of("/s/t.snap"), Optional.empty(), false);
        assertThat(StandbyRunner.Restore.parse(noCfg).config()).isEmpty();
        assertThat(StandbyRunner.Restore.parse(noCfg).paused()).isFalse();
        assertThatThrownBy(() -> StandbyRunner.Restore.format(Path.of("/s/a\tb.snap"), Optional.empty(), false))
                .hasMessageContaining("tab or line break");
        for (String bad : new String[] {"", "restore", "restore\t\t\t0", "restore\t/s\t\t2", "boot\t/s\t\t0",
                "restore\t/s\t\t0\textra"}) {
            assertThatThrownBy(() -> StandbyRunner.Restore.parse(bad)).as("'%s'", bad)
                    .isInstanceOf(DomainException.class).hasMessageContaining("expected 'restore TAB");
        }
    }

    @Test
    void markerScannerFindsTheMarkerAcrossChunks() {
        CompletableFuture<String> seen = new CompletableFuture<>();
        StandbyRunner.MarkerScanner s = new StandbyRunner.MarkerScanner("DOMUS-GUEST-READY", seen);
        byte[] a = "boot...DOMUS-GU".getBytes(StandardCharsets.US_ASCII);
        byte[] b = "DDOMUS-GUEST-REA".getBytes(StandardCharsets.US_ASCII);
        byte[] c = "DY\n".getBytes(StandardCharsets.US_ASCII);
        s.feed(a, 0, a.length);
        s.feed(b, 0, b.length);
        assertThat(seen).isNotDone();
        s.feed(c, 0, c.length);
        assertThat(seen).isCompletedWithValue("marker");
        CompletableFuture<String> never = new CompletableFuture<>();
        StandbyRunner.MarkerScanner none = new StandbyRunner.MarkerScanner("", never);
        none.feed(a, 0, a.length);
        assertThat(never).isNotDone();
    }

    @Test
    void releasedOrRefusedStandbyLeavesNothingBehind() throws Exception {
        Path dir = tmp.resolve("run");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = StandbyRunner.run(new String[] {"--standby", "--run-dir", dir.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]));
        assertThat(status).isEqualTo(DomainRunner.EXIT_POWEROFF);
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("standby " + ProcessHandle.current().pid()
                + " warmup=none");
        assertThat(RunDir.at(dir).domainNames()).isEmpty();

        ByteArrayOutputStream out2 = new ByteArrayOutputStream();
        Path missing = tmp.resolve("missing.snap");
        byte[] cmd = (StandbyRunner.Restore.format(missing, Optional.empty(), false) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        int status2 = StandbyRunner.run(new String[] {"--standby", "--run-dir", dir.toString()},
                new PrintStream(out2, true, StandardCharsets.UTF_8), new ByteArrayInputStream(cmd));
        assertThat(status2).isEqualTo(DomainRunner.EXIT_ERROR);
        String[] lines = out2.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines[0]).startsWith("standby ");
        assertThat(lines[1]).startsWith("error " + DomainException.SNAPSHOT + " ").contains("missing.snap");
        assertThat(RunDir.at(dir).domainNames()).isEmpty();
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".pid"));
            }
        }
    }
}
