// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.irq;

import dev.domus.xen.bus.MmioDevice;

/**
 * Platform-level interrupt controller with the SiFive register layout, as driven by Linux's irq-sifive-plic.
 *
 * <ul>
 *   <li>{@code 0x000000 + 4*s}: priority of source s (1..63; 3 bits, 0 = never interrupts).</li>
 *   <li>{@code 0x001000}: pending bits of sources 0..31, {@code 0x001004}: 32..63 (read-only).</li>
 *   <li>{@code 0x002000 + 0x80*c}: enable bits of context c (two 32-bit words).</li>
 *   <li>{@code 0x200000 + 0x1000*c}: priority threshold of context c; {@code +4}: claim (read) / complete
 *       (write).</li>
 * </ul>
 *
 * <p>Context {@code 2h} is hart h's M-mode (mip.MEIP), {@code 2h+1} its S-mode (mip.SEIP). A context's output is
 * asserted while some source is pending, enabled for it, and has a priority above its threshold.
 *
 * <p>Sources are level-triggered: a source is pending while its line is high and it is not claimed. A claim
 * returns the enabled pending source of highest priority above the threshold (lowest id on a tie; 0 if none) and
 * marks it claimed, so it cannot be pending again until it is completed. A completion for a source that is not
 * enabled in the completing context is ignored, as the specification says; completing an unclaimed source is
 * harmless. If the line is still high after completion the source is pending again at once.
 *
 * <p>Registers are 32 bits wide: aligned 4-byte accesses are served, 8-byte accesses are split into two 4-byte
 * accesses (low word first), other widths read as zero and are ignored. All state is guarded by one lock; lines
 * are driven from device threads and registers from vCPU threads. {@link HartInterrupts#setPending} is called
 * only when a context's output changes.
 */
public final class Plic implements MmioDevice {
    /** Guest-physical base of the window on the virt machine. */
    public static final long BASE = 0x0c00_0000L;
    /** Window size. */
    public static final long SIZE = 0x0400_0000L;
    /** Highest source id (the device tree's riscv,ndev). */
    public static final int SOURCES = 63;

    static final int PRIORITY_MASK = 7;
    static final long PENDING_BASE = 0x1000;
    static final long ENABLE_BASE = 0x2000;
    static final long ENABLE_STRIDE = 0x80;
    static final long CONTEXT_BASE = 0x20_0000;
    static final long CONTEXT_STRIDE = 0x1000;
    /** Mask of valid source bits (1..63). */
    private static final long VALID = ~1L;

    private final HartInterrupts harts;
    private final int contexts;
    private final int[] priority = new int[SOURCES + 1];
    private final long[] enable;
    private final int[] threshold;
    private final boolean[] output;
    private long levels;
    private long claimed;

    /** A PLIC with two contexts (M, S) for each hart of {@code harts}. */
    public Plic(HartInterrupts harts) {
        this.harts = harts;
        int n = harts.hartCount();
        if (n < 1 || n > 4096) {
            throw new IllegalArgumentException("PLIC supports 1..4096 harts, got " + n);
        }
        this.contexts = 2 * n;
        this.enable = new long[contexts];
        this.threshold = new int[contexts];
        this.output = new boolean[contexts];
    }

    @Override
    public long size() {
        return SIZE;
    }

    @Override
    public String name() {
        return "plic";
    }

    /** The input wire of source {@code source} (1..63), for the device that raises it. */
    public IrqLine line(int source) {
        if (source < 1 || source > SOURCES) {
            throw new IllegalArgumentException("PLIC source must be 1.." + SOURCES + ", got " + source);
        }
        long bit = 1L << source;
        return level -> setLevel(bit, level);
    }

    private void setLevel(long bit, boolean level) {
        synchronized (this) {
            long next = level ? levels | bit : levels & ~bit;
            if (next != levels) {
                levels = next;
                update();
            }
        }
    }

    @Override
    public long read(long offset, int width) {
        if ((offset & 3) != 0) {
            return 0;
        }
        if (width == 8) {
            return (read32(offset) & 0xffff_ffffL) | ((read32(offset + 4) & 0xffff_ffffL) << 32);
        }
        return width == 4 ? read32(offset) & 0xffff_ffffL : 0;
    }

    @Override
    public void write(long offset, int width, long value) {
        if ((offset & 3) != 0) {
            return;
        }
        if (width == 8) {
            write32(offset, (int) value);
            write32(offset + 4, (int) (value >>> 32));
        } else if (width == 4) {
            write32(offset, (int) value);
        }
    }

    private synchronized int read32(long offset) {
        if (offset < PENDING_BASE) {
            int src = (int) (offset >>> 2);
            return src <= SOURCES ? priority[src] : 0;
        }
        if (offset < PENDING_BASE + 8) {
            return word(pending(), offset - PENDING_BASE);
        }
        if (offset >= ENABLE_BASE && offset < ENABLE_BASE + ENABLE_STRIDE * contexts) {
            long rel = offset - ENABLE_BASE;
            long word = rel % ENABLE_STRIDE;
            return word < 8 ? word(enable[(int) (rel / ENABLE_STRIDE)], word) : 0;
        }
        if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + CONTEXT_STRIDE * contexts) {
            long rel = offset - CONTEXT_BASE;
            int ctx = (int) (rel / CONTEXT_STRIDE);
            long reg = rel % CONTEXT_STRIDE;
            if (reg == 0) {
                return threshold[ctx];
            }
            if (reg == 4) {
                return claim(ctx);
            }
        }
        return 0;
    }

    private synchronized void write32(long offset, int value) {
        if (offset < PENDING_BASE) {
            int src = (int) (offset >>> 2);
            if (src >= 1 && src <= SOURCES) {
                priority[src] = value & PRIORITY_MASK;
                update();
            }
        } else if (offset >= ENABLE_BASE && offset < ENABLE_BASE + ENABLE_STRIDE * contexts) {
            long rel = offset - ENABLE_BASE;
            long word = rel % ENABLE_STRIDE;
            if (word < 8) {
                int ctx = (int) (rel / ENABLE_STRIDE);
                int shift = (int) (word * 8);
                long mask = 0xffff_ffffL << shift;
                enable[ctx] = ((enable[ctx] & ~mask) | (((long) value & 0xffff_ffffL) << shift)) & VALID;
                update();
            }
        } else if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + CONTEXT_STRIDE * contexts) {
            long rel = offset - CONTEXT_BASE;
            int ctx = (int) (rel / CONTEXT_STRIDE);
            long reg = rel % CONTEXT_STRIDE;
            if (reg == 0) {
                threshold[ctx] = value & PRIORITY_MASK;
                update();
            } else if (reg == 4) {
                complete(ctx, value);
            }
        }
        // Pending bits are read-only; everything else is reserved.
    }

    private long pending() {
        return levels & ~claimed & VALID;
    }

    private static int word(long bits, long byteOffset) {
        return (int) (bits >>> (byteOffset * 8));
    }

    /** The best claimable source of {@code ctx}, or 0. Caller holds the lock. */
    private int best(int ctx) {
        long candidates = pending() & enable[ctx];
        int bestSource = 0;
        int bestPriority = threshold[ctx];
        while (candidates != 0) {
            int s = Long.numberOfTrailingZeros(candidates);
            candidates &= candidates - 1;
            if (priority[s] > bestPriority) {
                bestPriority = priority[s];
                bestSource = s;
            }
        }
        return bestSource;
    }

    private int claim(int ctx) {
        int s = best(ctx);
        if (s != 0) {
            claimed |= 1L << s;
            update();
        }
        return s;
    }

    private void complete(int ctx, int source) {
        if (source < 1 || source > SOURCES) {
            return;
        }
        long bit = 1L << source;
        if ((enable[ctx] & bit) == 0) {
            return;
        }
        claimed &= ~bit;
        update();
    }

    /** Recomputes every context's output and reports the changes. Caller holds the lock. */
    private void update() {
        for (int c = 0; c < contexts; c++) {
            boolean out = best(c) != 0;
            if (out != output[c]) {
                output[c] = out;
                harts.setPending(c >>> 1, (c & 1) == 0 ? HartInterrupts.MEIP : HartInterrupts.SEIP, out);
            }
        }
    }

    /** Current state for a snapshot. */
    public synchronized PlicState state() {
        return new PlicState(priority, levels, claimed, enable, threshold);
    }

    /** Restores a snapshot taken from a PLIC with the same hart count and re-drives every context's output. */
    public synchronized void restore(PlicState state) {
        long[] en = state.enables();
        if (en.length != contexts) {
            throw new IllegalArgumentException(
                    "PLIC state has " + en.length + " contexts, machine has " + contexts);
        }
        int[] pr = state.priorities();
        int[] th = state.thresholds();
        for (int s = 0; s <= SOURCES; s++) {
            priority[s] = s == 0 ? 0 : pr[s] & PRIORITY_MASK;
        }
        for (int c = 0; c < contexts; c++) {
            enable[c] = en[c] & VALID;
            threshold[c] = th[c] & PRIORITY_MASK;
        }
        levels = state.levels() & VALID;
        claimed = state.claimed() & VALID;
        for (int c = 0; c < contexts; c++) {
            output[c] = best(c) != 0;
            harts.setPending(c >>> 1, (c & 1) == 0 ? HartInterrupts.MEIP : HartInterrupts.SEIP, output[c]);
        }
    }
}
