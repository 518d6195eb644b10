// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Child-JVM side of {@link NetNsIT}: prints which network namespace it runs in. */
public final class NsProbe {
    private NsProbe() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("netns: " + Files.readSymbolicLink(Path.of("/proc/self/ns/net")));
    }
}
