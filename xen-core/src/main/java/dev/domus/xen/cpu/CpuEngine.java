// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

/**
 * An execution engine for harts: the interpreter today, a JIT to JVM bytecode later. The rest of the machine
 * (devices, firmware, domain) only sees this interface and {@link Hart}.
 */
public interface CpuEngine {
    /**
     * Executes up to {@code budget} instructions on {@code hart}, returning early when the hart requests it
     * (trap taken, WFI, interrupt state changed, device access with side effects); the JIT may also end a batch a
     * few instructions short rather than interpret a region that might not fit (only after at least one
     * instruction).
     *
     * @return instructions executed
     */
    int execute(Hart hart, int budget);
}
