// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Finds the xen-core domain-runner processes of a domain on this machine, for tests and operator checks that no
 * domain runs twice. A runner is started for a domain ({@code -Ddomus.domain=<name>} on its command line) or is a
 * pooled standby runner (started as {@code standby}) that took the domain over: its command line cannot change, but
 * it then holds the domain's pid file in its {@code --run-dir}.
 */
public final class DomainProcesses {
    private DomainProcesses() {
    }

    /** Live runner processes of {@code domain}. */
    public static List<ProcessHandle> of(String domain) {
        return ProcessHandle.allProcesses().filter(ph -> ph.info().arguments()
                .map(a -> runs(Arrays.asList(a), domain, ph.pid())).orElse(false)).toList();
    }

    private static boolean runs(List<String> args, String domain, long pid) {
        if (args.contains("-Ddomus.domain=" + domain)) {
            return true;
        }
        int dir = args.indexOf("--run-dir");
        if (!args.contains("-Ddomus.domain=standby") || dir < 0 || dir + 1 >= args.size()) {
            return false;
        }
        try {
            return Files.readString(Path.of(args.get(dir + 1), domain + ".pid")).strip().equals(Long.toString(pid));
        } catch (IOException | RuntimeException e) {
            return false; // no pid file there: this standby has not taken the domain
        }
    }
}
