// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

import java.nio.file.Path;
import java.util.Optional;

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
 * @param cpuEngine     the CPU engine
 */
public record MachineConfig(String name, int memoryMiB, int vcpus, Path kernel, Optional<Path> ramdisk,
                            String cmdline, int cpuCapPercent, CpuEngineKind cpuEngine) {
    public static final int MIN_MEMORY_MIB = 16;
    public static final int MAX_MEMORY_MIB = 65536;
    public static final int MAX_VCPUS = 8;

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
        cpuEngine = cpuEngine == null ? CpuEngineKind.defaultKind() : cpuEngine;
    }

    /** A machine on the default CPU engine ({@link CpuEngineKind#defaultKind()}). */
    public MachineConfig(String name, int memoryMiB, int vcpus, Path kernel, Optional<Path> ramdisk, String cmdline,
                         int cpuCapPercent) {
        this(name, memoryMiB, vcpus, kernel, ramdisk, cmdline, cpuCapPercent, null);
    }
}
