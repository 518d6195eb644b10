// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Whether an incoming migration's domain is the one its target built ahead ({@code xl migrate-receive --listen ..
 * --config <cfg>}): the source's domain record must equal the target's configuration in everything but the file it
 * was read from (name, memory, vCPUs, kernel, ramdisk, command line, cpu cap, lifecycle actions, disks, vifs, CPU
 * engine). The prebuilt machine's devices, disk images and taps are those of that configuration, and a later
 * reboot boots it, so any other difference could run the guest on something it was not built for: the target
 * refuses the handshake naming every difference (the source runs on), rather than rebuilding inside the migration.
 */
final class PrebuiltConfig {
    private PrebuiltConfig() {
    }

    /** Every field in which {@code offered} (the source's) differs from {@code prebuilt}, as readable text. */
    static List<String> differences(DomainConfig prebuilt, DomainConfig offered) {
        List<String> d = new ArrayList<>();
        diff(d, "name", prebuilt.name(), offered.name());
        diff(d, "memory", prebuilt.memoryMiB(), offered.memoryMiB());
        diff(d, "vcpus", prebuilt.vcpus(), offered.vcpus());
        diff(d, "kernel", prebuilt.kernel(), offered.kernel());
        diff(d, "ramdisk", prebuilt.ramdisk().map(Object::toString).orElse(""),
                offered.ramdisk().map(Object::toString).orElse(""));
        diff(d, "extra", prebuilt.cmdline(), offered.cmdline());
        diff(d, "cpu_cap", prebuilt.cpuCapPercent(), offered.cpuCapPercent());
        diff(d, "on_poweroff", prebuilt.onPoweroff().configName(), offered.onPoweroff().configName());
        diff(d, "on_reboot", prebuilt.onReboot().configName(), offered.onReboot().configName());
        diff(d, "on_crash", prebuilt.onCrash().configName(), offered.onCrash().configName());
        diff(d, "disk", prebuilt.disks(), offered.disks());
        diff(d, "vif", prebuilt.vifs(), offered.vifs());
        diff(d, "cpu_engine", prebuilt.cpuEngine().map(Object::toString).orElse("default"),
                offered.cpuEngine().map(Object::toString).orElse("default"));
        return d;
    }

    /** Null when {@code offered} fits {@code prebuilt}, else the refusal the source is told. */
    static String refusal(DomainConfig prebuilt, DomainConfig offered) {
        List<String> d = differences(prebuilt, offered);
        if (d.isEmpty()) {
            return null;
        }
        return "the target built domain '" + prebuilt.name() + "' ahead from " + prebuilt.source()
                + " and the migrated one differs: " + String.join("; ", d);
    }

    private static void diff(List<String> out, String field, Object prebuilt, Object offered) {
        if (!Objects.equals(prebuilt, offered)) {
            out.add(field + " " + offered + " (target: " + prebuilt + ")");
        }
    }
}
