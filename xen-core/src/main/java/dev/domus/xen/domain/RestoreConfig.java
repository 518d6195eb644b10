// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.util.ArrayList;
import java.util.List;

/**
 * Restoring a snapshot under another configuration ({@code xl restore <file> --config <cfg>}): the name, disk
 * paths, vif backends (tap, bridge, MAC) and lifecycle actions come from the new configuration, which is also what
 * a later reboot boots; everything the saved guest state depends on must equal the snapshot's. That is RAM, vCPUs,
 * the device list (disks by target and mode, in order; NIC count) and the console the kernel was told to use. The
 * kernel, ramdisk and the rest of the command line may differ: the restored kernel is already in RAM.
 */
final class RestoreConfig {
    private RestoreConfig() {
    }

    /**
     * Returns {@code given} when it can take the state saved under {@code saved}.
     *
     * @throws DomainException {@link DomainException#CONFIG} naming every difference, when it cannot
     */
    static DomainConfig check(DomainConfig saved, DomainConfig given) {
        List<String> diffs = new ArrayList<>();
        if (saved.memoryMiB() != given.memoryMiB()) {
            diffs.add("memory " + given.memoryMiB() + " MiB (snapshot: " + saved.memoryMiB() + ")");
        }
        if (saved.vcpus() != given.vcpus()) {
            diffs.add("vcpus " + given.vcpus() + " (snapshot: " + saved.vcpus() + ")");
        }
        List<String> sd = diskShapes(saved.disks());
        List<String> gd = diskShapes(given.disks());
        if (!sd.equals(gd)) {
            diffs.add("disks " + gd + " (snapshot: " + sd + ")");
        }
        if (saved.vifs().size() != given.vifs().size()) {
            diffs.add(given.vifs().size() + " vifs (snapshot: " + saved.vifs().size() + ")");
        }
        String sc = consoleOf(saved.cmdline());
        String gc = consoleOf(given.cmdline());
        if (!sc.equals(gc)) {
            diffs.add("console '" + gc + "' (snapshot: '" + sc + "')");
        }
        if (!diffs.isEmpty()) {
            throw new DomainException(DomainException.CONFIG, "config " + given.source()
                    + " does not fit the snapshot of domain '" + saved.name() + "': " + String.join("; ", diffs));
        }
        return given;
    }

    /** {@code <rw|ro>,<vdX>} of each normalised {@code <path>,<mode>,<target>} entry (paths may hold commas). */
    private static List<String> diskShapes(List<String> disks) {
        List<String> out = new ArrayList<>(disks.size());
        for (String d : disks) {
            int t = d.lastIndexOf(',');
            int m = t <= 0 ? -1 : d.lastIndexOf(',', t - 1);
            out.add(m < 0 ? d : d.substring(m + 1));
        }
        return out;
    }

    /** The last {@code console=} word (the kernel's preferred console), or "" without one. */
    private static String consoleOf(String cmdline) {
        String c = "";
        for (String w : cmdline.trim().split("\\s+")) {
            if (w.startsWith("console=")) {
                c = w.substring("console=".length());
            }
        }
        return c;
    }
}
