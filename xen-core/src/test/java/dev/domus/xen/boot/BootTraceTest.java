// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootTraceTest {
    @TempDir
    Path dir;

    @Test
    void writesPhasesInOrderOnceTheReadyMarkerLineEnds() throws Exception {
        Path file = dir.resolve("trace.txt");
        BootTrace t = new BootTrace(file);
        t.mark("machine-built");
        byte[] early = "[    0.000000] Linux version\nDOMUS-GUEST-".getBytes(StandardCharsets.US_ASCII);
        t.console(early, 0, early.length);
        assertThat(file).doesNotExist();
        byte[] rest = "READY\n".getBytes(StandardCharsets.US_ASCII);
        t.console(rest, 0, rest.length);

        String out = Files.readString(file);
        assertThat(out).containsSubsequence("event=phase phase=machine-built t_ms=",
                "event=phase phase=first-console-byte t_ms=", "event=phase phase=ready-marker t_ms=",
                "event=process cpu_ms=");
        assertThat(out).contains("event=thread name=");
    }

    @Test
    void aMarkerSplitOverTwoLinesIsNotTheReadyMarker() {
        Path file = dir.resolve("trace.txt");
        BootTrace t = new BootTrace(file);
        byte[] b = "DOMUS-GUEST\n-READY\n".getBytes(StandardCharsets.US_ASCII);
        t.console(b, 0, b.length);
        assertThat(file).doesNotExist();
    }
}
