// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.api.CpuEngineKind;
import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.MachineConfig;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A domain as described by an xl.cfg-like file: the machine to build plus the lifecycle policy and the device
 * lists that later issues interpret. Obtain one with {@link #load(Path)}, which validates everything (including
 * that the kernel is a RISC-V image) so that errors surface before any process is started.
 *
 * @param source      the configuration file (absolute)
 * @param name        domain name, {@code [A-Za-z0-9_.-]{1,64}}
 * @param memoryMiB   guest RAM
 * @param vcpus       number of vCPUs
 * @param kernel      RISC-V Linux Image or ELF (absolute)
 * @param ramdisk     optional initramfs (absolute)
 * @param cmdline     kernel command line ({@code extra} or {@code cmdline})
 * @param cpuCapPercent CPU cap in percent of one host core, 0 = none
 * @param onPoweroff  action when the guest powers off
 * @param onReboot    action when the guest reboots
 * @param onCrash     action when the guest crashes
 * @param disks       validated {@code disk = [...]} entries, normalised to {@code <absolute path>,<rw|ro>,<vdX>}
 *                    and {@code ,shared} for a shared-path disk (see {@code DeviceSpecs.DiskEntry})
 * @param vifs        validated {@code vif = [...]} entries as written (see {@code DeviceSpecs})
 * @param cpuEngine   {@code cpu_engine}, when set (else the process default, see {@link CpuEngineKind})
 */
public record DomainConfig(Path source, String name, int memoryMiB, int vcpus, Path kernel, Optional<Path> ramdisk,
                           String cmdline, int cpuCapPercent, LifecycleAction onPoweroff, LifecycleAction onReboot,
                           LifecycleAction onCrash, List<String> disks, List<String> vifs,
                           Optional<CpuEngineKind> cpuEngine) {
    /** Default guest RAM when {@code memory} is not set. */
    public static final int DEFAULT_MEMORY_MIB = 128;
    /** Allowed domain names; they become file names in the run directory. */
    public static final String NAME_PATTERN = "[A-Za-z0-9_.-]{1,64}";

    public DomainConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(onPoweroff, "onPoweroff");
        Objects.requireNonNull(onReboot, "onReboot");
        Objects.requireNonNull(onCrash, "onCrash");
        ramdisk = ramdisk == null ? Optional.empty() : ramdisk;
        cmdline = cmdline == null ? "" : cmdline;
        disks = List.copyOf(disks == null ? List.of() : disks);
        vifs = List.copyOf(vifs == null ? List.of() : vifs);
        cpuEngine = cpuEngine == null ? Optional.empty() : cpuEngine;
    }

    /** Loads and validates {@code file}, expanding {@code ${VAR}} from the process environment. */
    public static DomainConfig load(Path file) {
        return load(file, System.getenv());
    }

    /**
     * Loads and validates {@code file}, expanding {@code ${VAR}} from {@code env}.
     *
     * @throws DomainException with code {@link DomainException#CONFIG} and a {@code file:line: message} text
     */
    public static DomainConfig load(Path file, Map<String, String> env) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            throw new DomainException(DomainException.CONFIG, file + ": not a UTF-8 text file");
        } catch (IOException e) {
            throw new DomainException(DomainException.CONFIG, "cannot read config " + file + ": " + describe(e));
        }
        Path abs = file.toAbsolutePath().normalize();
        Path dir = abs.getParent() == null ? abs.getRoot() : abs.getParent();
        return new ConfigParser(file.toString(), abs, dir, env).parse(text);
    }

    /** The machine part of this domain. */
    public MachineConfig toMachineConfig() {
        List<dev.domus.xen.api.DiskConfig> d = new java.util.ArrayList<>();
        for (String entry : disks) {
            d.add(DeviceSpecs.DiskEntry.parse(entry).toDiskConfig());
        }
        List<dev.domus.xen.api.NicConfig> n = new java.util.ArrayList<>();
        for (int i = 0; i < vifs.size(); i++) {
            n.add(DeviceSpecs.vif(vifs.get(i), name, i));
        }
        return new MachineConfig(name, memoryMiB, vcpus, kernel, ramdisk, cmdline, cpuCapPercent, d, n,
                cpuEngine.orElseGet(CpuEngineKind::defaultKind));
    }

    /** The targets ({@code vda}, ...) of the disks marked {@code shared}. */
    public java.util.Set<String> sharedDisks() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (String entry : disks) {
            DeviceSpecs.DiskEntry e = DeviceSpecs.DiskEntry.parse(entry);
            if (e.shared()) {
                out.add(e.target());
            }
        }
        return out;
    }

    /** The action configured for an exit of the given kind. */
    LifecycleAction actionFor(ExitReason reason) {
        return switch (reason) {
            case ExitReason.PowerOff p -> onPoweroff;
            case ExitReason.Reboot r -> onReboot;
            case ExitReason.Crash c -> onCrash;
            case ExitReason.Destroyed d -> LifecycleAction.DESTROY;
        };
    }

    static String describe(IOException e) {
        String kind = e.getClass().getSimpleName();
        return switch (kind) {
            case "NoSuchFileException" -> "no such file";
            case "AccessDeniedException" -> "permission denied";
            case "NotDirectoryException" -> "not a directory";
            default -> e.getMessage() == null ? kind : e.getMessage();
        };
    }
}
