// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack.quarkus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** State directories of test services: under the module's {@code target/} so logs sit next to test reports. */
final class TestStateDirs {

    private TestStateDirs() {
    }

    /**
     * {@code -Ddomus.stack.test-state-dir}, else {@code ./target/domus-stack} (Maven runs tests in the module
     * dir), else the temp dir; one fresh subdirectory per service and JVM.
     */
    static Path forService(String service) {
        String configured = System.getProperty("domus.stack.test-state-dir");
        Path root;
        if (configured != null && !configured.isBlank()) {
            root = Path.of(configured);
        } else if (Files.isDirectory(Path.of("target"))) {
            root = Path.of("target", "domus-stack");
        } else {
            root = Path.of(System.getProperty("java.io.tmpdir"), "domus-stack");
        }
        Path dir = root.resolve(service + "-" + ProcessHandle.current().pid()).toAbsolutePath();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create test state dir " + dir, e);
        }
        return dir;
    }
}
