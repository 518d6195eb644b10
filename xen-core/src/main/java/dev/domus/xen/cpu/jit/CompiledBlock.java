// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

import dev.domus.xen.cpu.EngineSupport;
import dev.domus.xen.cpu.Hart;
import dev.domus.xen.memory.GuestMemory;

/**
 * A translated guest code region; the generated hidden classes extend this.
 *
 * <p>Chaining. Every exit of a region to a known next pc (a branch or jump leaving the region, a JALR, the fall
 * through at its end) is an <em>exit site</em> and ends in {@link #chainTarget}. Each site caches the {@link BlockMap.Entry}
 * the hart went to from there last time ({@link #links}, filled in by the dispatcher after a miss); when that entry
 * holds a valid translation of the very physical address the next pc now maps to and it fits the rest of the
 * budget, the region calls it directly instead of returning to the dispatcher. The cache is only a shortcut: every
 * check the dispatcher makes (fetch translation, code state of the page, budget, end of batch) is made again at
 * each chained entry, so a stale or wrong link costs a miss, never a wrong execution. Chained calls nest, so their
 * depth is bounded ({@link #MAX_CHAIN_DEPTH}); at the bound the region returns to the dispatcher, which starts at
 * depth 0 again.
 */
abstract class CompiledBlock {
    /** Chained regions one dispatcher entry may nest at most (bounds the JVM stack: one frame per level). */
    static final int MAX_CHAIN_DEPTH = 24;

    /** Per exit site: the entry the hart went to from there last time, or null (a cache, checked on every use). */
    final BlockMap.Entry[] links;
    /**
     * The load/store fast path of the hart whose translation cache holds this region (a region is installed in
     * one hart's cache only, so the region entry needs no lookup); set before the region first runs.
     */
    JitMem mem;
    /** Regions entered from this one without the dispatcher (diagnostics and tests). */
    long chained;

    CompiledBlock(int exitSites) {
        links = new BlockMap.Entry[exitSites];
    }

    /**
     * Runs the region starting at virtual address {@code pc} (the code is position independent in virtual space,
     * so one translation serves every mapping of its physical page). On return the hart's pc and integer
     * registers are up to date; a trap has been taken if one occurred.
     *
     * @param budget instructions this call may retire at most (the dispatcher only enters with budget >= length)
     * @param depth  chained calls already on the stack; at {@link #MAX_CHAIN_DEPTH} this region does not chain
     * @return instructions retired, those of regions chained from here included (the trapping one counts, as in
     *         the interpreter); the caller adds them to instret
     */
    abstract int run(Hart h, long[] x, long pc, int budget, int depth);

    /**
     * Leaves the region through exit site {@code site} to virtual {@code next} after {@code n} instructions, the
     * registers already written back: sets the pc and returns the linked region when it is valid for {@code next}
     * and fits, else null (the region returns to the dispatcher). The generated code then calls the returned
     * region itself, so that call site's profile sees only this region's successors (a call made here would be
     * shared by all regions). On a non-null result instret already includes this region's {@code n} (CSR reads
     * inside the chained region must see the exact count); the caller takes it back after the call, since the
     * dispatcher adds the total.
     */
    final CompiledBlock chainTarget(Hart h, long next, int n, int budget, int depth, int site) {
        EngineSupport.setPc(h, next);
        if (depth >= MAX_CHAIN_DEPTH || EngineSupport.endBatch(h)) {
            return null;
        }
        BlockMap.Entry e = links[site];
        if (e == null) {
            JitEngine.missedLink(h, this, site);
            return null;
        }
        CompiledBlock b = e.block;
        if (b == null || e.length > budget - n) {
            return null;
        }
        // Only now, with room for at least one more instruction, fetch: the dispatcher would fetch at once too, so
        // a fetch fault (taken here, pc at the handler) or the A bit a table walk sets happen exactly as they would.
        long pa = EngineSupport.fetchPhysical(h, next);
        if (pa < 0) {
            return null; // a fetch trap has been taken or the target is not in RAM
        }
        if (e.pa != pa) {
            JitEngine.missedLink(h, this, site);
            return null;
        }
        GuestMemory ram = EngineSupport.ram(h);
        if (e.pageState != ram.codeState((int) ((pa - ram.base()) >>> 12))) {
            return null;
        }
        chained++;
        EngineSupport.retired(h, n);
        return b;
    }
}
