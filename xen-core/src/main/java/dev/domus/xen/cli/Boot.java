// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineListener;
import dev.domus.xen.boot.BootException;
import dev.domus.xen.boot.Machines;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Boots a kernel in the foreground with the console on stdin/stdout, without a domain runner or control socket:
 * {@code Boot --kernel Image [--initrd F] [--memory MiB] [--vcpus N] [--append CMDLINE]
 * [--disk PATH,rw|ro,vdX]... [--vif MAC,TAP[,BRIDGE]]...}. For benchmarks and
 * debugging; domains are run with {@code xl}. Exit status: 0 guest power-off, 3 crash, 4 reboot, 2 bad input.
 */
public final class Boot {
    private Boot() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.exit(run(args, System.in, System.out, System.err));
    }

    static int run(String[] args, InputStream in, PrintStream out, PrintStream err) throws InterruptedException {
        Path kernel = null;
        Optional<Path> initrd = Optional.empty();
        int memory = 256;
        int vcpus = 1;
        String append = "console=ttyS0";
        java.util.List<dev.domus.xen.api.DiskConfig> disks = new java.util.ArrayList<>();
        java.util.List<dev.domus.xen.api.NicConfig> nics = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--kernel" -> kernel = Path.of(args[++i]);
                    case "--initrd" -> initrd = Optional.of(Path.of(args[++i]));
                    case "--memory" -> memory = Integer.parseInt(args[++i]);
                    case "--vcpus" -> vcpus = Integer.parseInt(args[++i]);
                    case "--append" -> append = args[++i];
                    case "--disk" -> {
                        String[] d = args[++i].split(",");
                        if (d.length != 3 || !(d[1].equals("rw") || d[1].equals("ro"))) {
                            err.println("boot: --disk wants PATH,rw|ro,vdX, got " + args[i]);
                            return 2;
                        }
                        disks.add(new dev.domus.xen.api.DiskConfig(Path.of(d[0]), d[1].equals("ro"), d[2]));
                    }
                    case "--vif" -> {
                        String[] v = args[++i].split(",");
                        if (v.length < 2 || v.length > 3) {
                            err.println("boot: --vif wants MAC,TAP[,BRIDGE], got " + args[i]);
                            return 2;
                        }
                        nics.add(new dev.domus.xen.api.NicConfig(v[0], v[1],
                                v.length == 3 ? Optional.of(v[2]) : Optional.empty()));
                    }
                    default -> {
                        err.println("boot: unknown argument " + args[i]);
                        return 2;
                    }
                }
            }
        } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException e) {
            err.println("boot: bad arguments: " + e.getMessage());
            return 2;
        }
        if (kernel == null) {
            err.println("boot: --kernel is required");
            return 2;
        }
        Machine m;
        try {
            MachineConfig cfg = new MachineConfig("boot", memory, vcpus, kernel, initrd, append, 0, disks,
                    nics);
            m = Machines.create(cfg, new MachineListener() {
                @Override
                public void consoleOutput(byte[] data, int off, int len) {
                    out.write(data, off, len);
                    out.flush();
                }
            });
        } catch (BootException | IllegalArgumentException e) {
            err.println("boot: " + e.getMessage());
            return 2;
        }
        Thread input = Thread.ofPlatform().daemon(true).start(() -> {
            byte[] buf = new byte[256];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    m.consoleInput(java.util.Arrays.copyOf(buf, n));
                }
            } catch (IOException e) {
                // console input closed: the guest keeps running
            }
        });
        m.start();
        ExitReason r = m.awaitExit(Duration.ofDays(365)).orElseThrow();
        input.interrupt();
        return switch (r) {
            case ExitReason.PowerOff p -> p.code() == 0 ? 0 : 1;
            case ExitReason.Crash c -> {
                err.println("boot: guest crashed: " + c.reason());
                yield 3;
            }
            case ExitReason.Reboot rb -> 4;
            case ExitReason.Destroyed d -> 5;
        };
    }
}
