// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

import dev.domus.xen.cpu.Hart;

/** A translated guest code region; the generated hidden classes extend this. */
abstract class CompiledBlock {
    /**
     * Runs the region starting at virtual address {@code pc} (the code is position independent in virtual space,
     * so one translation serves every mapping of its physical page). On return the hart's pc and integer
     * registers are up to date; a trap has been taken if one occurred.
     *
     * @param budget instructions this call may retire at most (the dispatcher only enters with budget >= length)
     * @return instructions retired (the trapping one included, as in the interpreter)
     */
    abstract int run(Hart h, long[] x, long pc, int budget);
}
