// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.infra;

import dev.domus.agent.domain.AgentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs host tools (cp, truncate, e2fsck, resize2fs, mke2fs, ip); failures carry the tool's stderr. */
public final class Tools {
    private Tools() {
    }

    /** Exit status and combined output of one tool run. */
    public record Result(int status, String output) { }

    /** Runs {@code cmd}; a non-zero status in {@code okStatuses}' complement becomes an AgentException. */
    public static Result run(String code, Duration timeout, List<String> cmd, int... okStatuses) {
        Result r = runQuietly(timeout, cmd);
        if (r.status() == 0) {
            return r;
        }
        for (int ok : okStatuses) {
            if (r.status() == ok) {
                return r;
            }
        }
        throw new AgentException(code, String.join(" ", cmd) + " failed with status " + r.status() + ": "
                + r.output().strip());
    }

    /** Runs {@code cmd} and returns whatever happened (status -1 = could not start or timed out). */
    public static Result runQuietly(Duration timeout, List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            // Output is small for these tools; reading after exit could deadlock on a full pipe, so read first.
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out after " + timeout.toSeconds() + " s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, "cannot run " + cmd.getFirst() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
