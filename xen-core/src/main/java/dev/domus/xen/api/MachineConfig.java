// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything needed to assemble and boot one virtual machine. Validated on construction with messages that say
 * what is wrong and what is allowed.
 *
 * @param name          domain name (for logs)
 * @param memoryMiB     guest RAM in MiB, {@value #MIN_MEMORY_MIB}..{@value #MAX_MEMORY_MIB}
 * @param vcpus         number of harts, 1..{@value #MAX_VCPUS}
 * @param kernel        a RISC-V Linux {@code Image} (or a bare-metal ELF when {@code firmwareMode} is BARE)
 * @param ramdisk       optional initramfs
 * @param cmdline       kernel command line
 * @param cpuCapPercent host CPU cap over all vCPUs in percent of one core (0 = uncapped)
 * @param disks         virtio-blk disks; targets vda.. without gaps, kept sorted by target (= slot order)
 * @param nics          virtio-net interfaces, in slot order (eth0 first)
 */
public record MachineConfig(String name, int memoryMiB, int vcpus, Path kernel, Optional<Path> ramdisk,
                            String cmdline, int cpuCapPercent, List<DiskConfig> disks, List<NicConfig> nics) {
    public static final int MIN_MEMORY_MIB = 16;
    public static final int MAX_MEMORY_MIB = 65536;
    public static final int MAX_VCPUS = 8;
    /** virtio-mmio slots for disks and NICs together (two of the eight go to the console and the RNG). */
    public static final int MAX_DISKS_AND_NICS = 6;

    /** A machine without disks or NICs. */
    public MachineConfig(String name, int memoryMiB, int vcpus, Path kernel, Optional<Path> ramdisk, String cmdline,
                         int cpuCapPercent) {
        this(name, memoryMiB, vcpus, kernel, ramdisk, cmdline, cpuCapPercent, List.of(), List.of());
    }

    public MachineConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name must not be empty");
        }
        if (memoryMiB < MIN_MEMORY_MIB || memoryMiB > MAX_MEMORY_MIB) {
            throw new IllegalArgumentException("memory must be " + MIN_MEMORY_MIB + ".." + MAX_MEMORY_MIB
                    + " MiB, got " + memoryMiB);
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vcpus must be 1.." + MAX_VCPUS + ", got " + vcpus);
        }
        if (kernel == null) {
            throw new IllegalArgumentException("kernel must be set");
        }
        ramdisk = ramdisk == null ? Optional.empty() : ramdisk;
        cmdline = cmdline == null ? "" : cmdline;
        if (cpuCapPercent < 0 || cpuCapPercent > 100 * MAX_VCPUS) {
            throw new IllegalArgumentException("cpu_cap must be 0.." + (100 * MAX_VCPUS) + " %, got " + cpuCapPercent);
        }
        disks = List.copyOf(disks == null ? List.of() : disks);
        nics = List.copyOf(nics == null ? List.of() : nics);
        if (disks.size() + nics.size() > MAX_DISKS_AND_NICS) {
            throw new IllegalArgumentException("at most " + MAX_DISKS_AND_NICS + " disks and NICs together, got "
                    + disks.size() + " disks and " + nics.size() + " NICs");
        }
        Set<String> targets = new HashSet<>();
        for (DiskConfig d : disks) {
            if (!targets.add(d.target())) {
                throw new IllegalArgumentException("disk target " + d.target() + " is used twice");
            }
        }
        // Linux names virtio disks in probe (= slot) order, so vda..vdX must be contiguous to mean what they say.
        for (int i = 0; i < disks.size(); i++) {
            String want = "vd" + (char) ('a' + i);
            if (!targets.contains(want)) {
                throw new IllegalArgumentException("disk targets must be vda, vdb, ... without gaps: " + want
                        + " is missing");
            }
        }
        disks = disks.stream().sorted(java.util.Comparator.comparing(DiskConfig::target)).toList();
    }
}
