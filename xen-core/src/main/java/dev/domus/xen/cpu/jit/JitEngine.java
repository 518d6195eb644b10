// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

import dev.domus.xen.cpu.CpuEngine;
import dev.domus.xen.cpu.EngineSupport;
import dev.domus.xen.cpu.Hart;
import dev.domus.xen.memory.GuestMemory;

import java.lang.invoke.MethodHandles;
import java.util.Optional;

/**
 * The translating engine. Each hart has its own translation cache (a {@link BlockMap} keyed by guest-physical
 * address, so address-space switches keep it). The dispatcher loop resolves the pc through the hart's fetch page
 * cache to a physical address, looks the region up and runs it; cold regions (fewer than {@code hotThreshold}
 * visits) and regions the translator leaves alone run in the interpreter up to their next jump. A translation is
 * used only while its page's code state in {@link GuestMemory} is unchanged: any write to a page holding translated
 * code (a store by any hart, a device or the loader) moves the page to a new generation, so self-modifying code and
 * page reuse are caught before stale code runs again, without any flush.
 */
public final class JitEngine implements CpuEngine {
    /**
     * Default visits before a region is translated. A translation costs milliseconds (class generation, hidden-class
     * definition and verification, then HotSpot compiling it), so only regions that will run often enough to repay
     * that leave the interpreter; measured on a Linux boot, 4096 beat 16 and 1000.
     */
    public static final int DEFAULT_HOT_THRESHOLD = 4096;
    /** Entries per hart before the cache is dropped and rebuilt (bounds memory and class count). */
    private static final int MAX_ENTRIES = 1 << 18;

    private final int hotThreshold;

    /** Per-hart state, held in the hart and touched by its vCPU thread only. */
    private static final class HartState {
        final BlockMap map = new BlockMap(1 << 12, MAX_ENTRIES);
        final Translator translator = new Translator(MethodHandles.lookup());
        long translations;
        long stale;
        long translateNanos;
        long interpreted;
        long compiled;
        long lastReport = System.nanoTime();
    }

    /** {@code -Ddomus.jit.stats=true}: one log line per hart every 5 s with the translation counters. */
    private static final boolean STATS = Boolean.getBoolean("domus.jit.stats");
    private static final System.Logger LOG = System.getLogger(JitEngine.class.getName());

    public JitEngine() {
        this(Integer.getInteger("domus.jit.threshold", DEFAULT_HOT_THRESHOLD));
    }

    /** @param hotThreshold visits of a region before it is translated (0 = translate on first visit) */
    public JitEngine(int hotThreshold) {
        if (hotThreshold < 0) {
            throw new IllegalArgumentException("JIT hot threshold must be >= 0, got " + hotThreshold);
        }
        this.hotThreshold = hotThreshold;
    }

    private static HartState state(Hart h) {
        if (EngineSupport.engineData(h) instanceof HartState s) {
            return s;
        }
        HartState s = new HartState();
        EngineSupport.setEngineData(h, s);
        return s;
    }

    @Override
    public int execute(Hart h, int budget) {
        HartState st = state(h);
        GuestMemory ram = EngineSupport.ram(h);
        long ramBase = ram.base();
        long[] x = EngineSupport.x(h);
        int n = 0;
        while (n < budget) {
            long pc = EngineSupport.pc(h);
            long pa = EngineSupport.fetchPhysical(h, pc);
            if (pa >= 0) {
                BlockMap.Entry e = st.map.get(pa);
                CompiledBlock b = e.block;
                int page = (int) ((pa - ramBase) >>> 12);
                if (b != null && e.pageState == ram.codeState(page) && e.length <= budget - n) {
                    int k = b.run(h, x, pc, budget - n);
                    EngineSupport.retired(h, k);
                    n += k;
                    if (STATS) {
                        st.compiled += k;
                    }
                } else {
                    n += slowPath(h, st, e, ram, page, budget - n);
                }
            } else if (pa == EngineSupport.FETCH_NOT_RAM) {
                n += EngineSupport.interpret(h, budget - n, true);
            }
            if (EngineSupport.endBatch(h)) {
                break;
            }
        }
        EngineSupport.clearEndBatch(h);
        if (STATS && System.nanoTime() - st.lastReport > 5_000_000_000L) {
            st.lastReport = System.nanoTime();
            LOG.log(System.Logger.Level.INFO, "event=jit-stats hart=" + h.hartId() + " translations="
                    + st.translations + " stale=" + st.stale + " entries=" + st.map.size() + " translate_ms="
                    + st.translateNanos / 1_000_000 + " insns_compiled=" + st.compiled + " insns_interpreted="
                    + st.interpreted);
        }
        return n;
    }

    /** Cold, stale, untranslatable or too long for the remaining budget: maybe translate, else interpret. */
    private int slowPath(Hart h, HartState st, BlockMap.Entry e, GuestMemory ram, int page, int budget) {
        int state = ram.codeState(page);
        if ((e.block != null || e.interpretOnly) && e.pageState != state) {
            st.stale++;
            e.block = null;
            e.interpretOnly = false;
            e.hits = 0;
        }
        if (e.block == null && !e.interpretOnly && e.hits++ >= hotThreshold) {
            int pageState = ram.watchCode(e.pa - ram.base());
            long t0 = System.nanoTime();
            Optional<Translator.Result> r = st.translator.translate(ram, e.pa);
            st.translateNanos += System.nanoTime() - t0;
            e.pageState = pageState;
            st.translations++;
            if (r.isPresent()) {
                e.block = r.get().block();
                e.length = r.get().length();
                if (e.length <= budget && ram.codeState(page) == pageState) {
                    int k = e.block.run(h, EngineSupport.x(h), EngineSupport.pc(h), budget);
                    EngineSupport.retired(h, k);
                    st.compiled += k;
                    return k;
                }
            } else {
                e.interpretOnly = true;
            }
        }
        int k = EngineSupport.interpret(h, budget, true);
        st.interpreted += k;
        return k;
    }

    /** Regions translated so far by {@code h} (for tests and diagnostics). */
    public static long translations(Hart h) {
        return EngineSupport.engineData(h) instanceof HartState s ? s.translations : 0;
    }
}
