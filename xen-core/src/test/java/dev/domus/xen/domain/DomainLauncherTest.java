// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DomainLauncherTest {
    @Test
    void theRunnerJvmOptionsAreAcceptedByThisJdk() throws IOException, InterruptedException {
        // An unknown or retired -XX flag makes the JVM refuse to start: every domain launch would fail.
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+PrintFlagsFinal"));
        cmd.addAll(DomainLauncher.runnerJvmOptions());
        cmd.add("-version");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).containsPattern("PerMethodTrapLimit\\s+=\\s+0\\s")
                .containsPattern("UseSerialGC\\s+=\\s+true\\s")
                .containsPattern("TrimNativeHeapInterval\\s+=\\s+5000\\s");
    }
}
