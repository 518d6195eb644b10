// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.MachineListener;
import dev.domus.xen.boot.BootException;
import dev.domus.xen.boot.Machines;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Runs a bare-metal RV64 test program (riscv-tests / riscv-arch-test style) on xen-core, like a reference simulator:
 * {@code RunElf [--signature FILE] [--signature-granularity 4|8] [--timeout-s N] [--memory MiB] [--harts N] prog.elf}.
 * Exit status: the program's tohost exit code (0 = pass), 124 on timeout, 2 on bad usage or input.
 */
public final class RunElf {
    private RunElf() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
        Path elf = null;
        Path signature = null;
        int granularity = 4;
        long timeout = 60;
        int memory = 64;
        int harts = 1;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--signature" -> signature = Path.of(args[++i]);
                    case "--signature-granularity" -> granularity = Integer.parseInt(args[++i]);
                    case "--timeout-s" -> timeout = Long.parseLong(args[++i]);
                    case "--memory" -> memory = Integer.parseInt(args[++i]);
                    case "--harts" -> harts = Integer.parseInt(args[++i]);
                    case "-h", "--help" -> {
                        out.println("usage: RunElf [--signature FILE] [--signature-granularity 4|8] "
                                + "[--timeout-s N] [--memory MiB] [--harts N] program.elf");
                        return 0;
                    }
                    default -> {
                        if (args[i].startsWith("-") || elf != null) {
                            err.println("run-elf: unexpected argument " + args[i]);
                            return 2;
                        }
                        elf = Path.of(args[i]);
                    }
                }
            }
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            err.println("run-elf: bad arguments: " + e.getMessage());
            return 2;
        }
        if (elf == null || (granularity != 4 && granularity != 8)) {
            err.println("run-elf: need a program (and --signature-granularity 4 or 8)");
            return 2;
        }
        Machines.BareMetalResult result;
        try {
            result = Machines.runBareMetal(elf, memory, harts, Duration.ofSeconds(timeout), new MachineListener() {
                @Override
                public void consoleOutput(byte[] data, int off, int len) {
                    out.write(data, off, len);
                    out.flush();
                }
            });
        } catch (BootException | IllegalArgumentException e) {
            err.println("run-elf: " + e.getMessage());
            return 2;
        }
        if (signature != null) {
            try {
                Files.writeString(signature, formatSignature(result.signature(), granularity));
            } catch (IOException e) {
                err.println("run-elf: cannot write signature: " + e.getMessage());
                return 2;
            }
        }
        Optional<ExitReason> exit = result.exit();
        if (exit.isEmpty()) {
            err.println("run-elf: timeout after " + timeout + " s (" + result.instructions() + " instructions)");
            return 124;
        }
        if (exit.get() instanceof ExitReason.PowerOff p) {
            return p.code() > 255 ? 1 : p.code();
        }
        err.println("run-elf: " + exit.get());
        return 1;
    }

    /** One little-endian word per line, most significant hex digit first, as reference simulators print. */
    static String formatSignature(byte[] sig, int granularity) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + granularity <= sig.length; i += granularity) {
            for (int j = granularity - 1; j >= 0; j--) {
                sb.append(String.format("%02x", sig[i + j] & 0xff));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
