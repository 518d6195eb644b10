// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** The controlling terminal, driven through {@code stty} so no native code is needed. */
final class Terminal {
    private Terminal() { }

    /** True when this process's stdin is a terminal. */
    static boolean stdinIsTty() {
        try {
            Process p = new ProcessBuilder("sh", "-c", "[ -t 0 ]")
                    .redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Switches the terminal to raw mode without echo.
     *
     * @return the previous settings for {@link #restore}, empty if the terminal could not be changed
     */
    static Optional<String> enterRaw() {
        Optional<String> saved = stty("-g");
        if (saved.isPresent() && stty("raw -echo").isPresent()) {
            return saved;
        }
        return Optional.empty();
    }

    static void restore(String saved) {
        stty(saved);
    }

    private static Optional<String> stty(String args) {
        try {
            Process p = new ProcessBuilder("sh", "-c", "stty " + args + " < /dev/tty")
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
