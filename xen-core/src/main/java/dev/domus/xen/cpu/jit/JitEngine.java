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
 * cache to a physical address, looks the region up (a successor link per entry usually saves the hash probe) and
 * runs it; cold regions (fewer than {@code hotThreshold} visits) and regions the translator leaves alone run in the
 * interpreter up to their next jump. Hot regions are translated by the {@link BackgroundCompiler} thread while the
 * vCPU goes on interpreting them, so translation never stalls the guest (it used to cost a Linux boot more than a
 * second); tests use the synchronous mode. A translation is used only while its page's code state in
 * {@link GuestMemory} is unchanged: any write to a page holding translated code (a store by any hart, a device or
 * the loader) moves the page to a new generation, so self-modifying code and page reuse are caught before stale
 * code runs again, without any flush. With chaining on, regions also enter each other directly
 * ({@link CompiledBlock#chainTarget}: a cached link per exit site, validated like a dispatcher lookup).
 *
 * <p>{@link #execute} never retires more than its budget, but may end the batch a little early (by less than one
 * region pass, never before its first instruction) when the next region might not fit the rest: interpreting it
 * instead would cost far more than the caller's next call.
 */
public final class JitEngine implements CpuEngine {
    /**
     * Default visits before a region is translated. A translation costs milliseconds (class generation, hidden-class
     * definition and verification, then HotSpot compiling it), so only regions that will run often enough to repay
     * that leave the interpreter; measured on a Linux boot, 4096 beat 16 and 1000. 16384 saves 1-2 s of C1/C2
     * CPU per boot (~100 instead of ~800 translations to the ready marker) but boots slower in wall time on a box
     * with a core to spare for the compilers (JIT round 5), so it stays 4096.
     */
    public static final int DEFAULT_HOT_THRESHOLD = 4096;
    /** Entries per hart before the cache is dropped and rebuilt (bounds memory and class count). */
    private static final int MAX_ENTRIES = 1 << 18;

    private final int hotThreshold;
    private final boolean background;
    /** Depth the dispatcher enters regions with: 0 chains, {@link CompiledBlock#MAX_CHAIN_DEPTH} never chains. */
    private final int entryDepth;

    /** Per-hart state, held in the hart and touched by its vCPU thread only. */
    private static final class HartState {
        final BlockMap map = new BlockMap(1 << 12, MAX_ENTRIES);
        /** For translating on the vCPU thread (background off); created on first use. */
        private Translator translator;
        long translations;
        long queueFull;
        long shortBatches;
        /** Entries into translated regions from the dispatcher (each one a region exit later). */
        long runs;
        long stale;
        long translateNanos;
        long interpreted;
        long compiled;
        long lastReport = System.nanoTime();
        /**
         * The region whose exit site {@link #linkSite} found no usable link (see {@link CompiledBlock#chainTarget}): the
         * dispatcher's next lookup fills it in. Null when there is nothing to link.
         */
        CompiledBlock linkFrom;
        int linkSite;
        /** The generated code's load/store fast path for this hart. */
        final JitMem mem;

        HartState(Hart h) {
            mem = new JitMem(h);
        }

        Translator translator() {
            if (translator == null) {
                translator = new Translator(MethodHandles.lookup());
            }
            return translator;
        }
    }

    /** {@code -Ddomus.jit.stats=true}: one log line per hart every 5 s with the translation counters. */
    private static final boolean STATS = Boolean.getBoolean("domus.jit.stats");
    /** {@code -Ddomus.jit.shortBatches=false}: interpret a region that might not fit the batch (for A/B runs). */
    private static final boolean SHORT_BATCHES = !"false".equals(System.getProperty("domus.jit.shortBatches"));
    /**
     * {@code -Ddomus.jit.chain=true}: regions enter each other directly. Off by default until a quiet-box benchmark
     * decides: on the shared box sha256 gained (0.63-0.84x CPU seconds) while gzip and boot stayed within the noise
     * (xen-core README, JIT round 3).
     */
    private static final boolean CHAIN = "true".equals(System.getProperty("domus.jit.chain"));
    private static final System.Logger LOG = System.getLogger(JitEngine.class.getName());

    /**
     * The production engine: threshold from {@code -Ddomus.jit.threshold} (default {@value #DEFAULT_HOT_THRESHOLD}),
     * translation on the background compiler thread unless {@code -Ddomus.jit.background=false}, chaining only
     * with {@code -Ddomus.jit.chain=true}.
     */
    public JitEngine() {
        this(Integer.getInteger("domus.jit.threshold", DEFAULT_HOT_THRESHOLD),
                !"false".equals(System.getProperty("domus.jit.background")), CHAIN);
    }

    /**
     * An engine that translates on the vCPU thread: a region runs translated from its next visit on; chaining on,
     * so the CPU suites and differential tests exercise it (tests).
     */
    public JitEngine(int hotThreshold) {
        this(hotThreshold, false, true);
    }

    /** A chaining engine; see {@link #JitEngine(int, boolean, boolean)}. */
    public JitEngine(int hotThreshold, boolean background) {
        this(hotThreshold, background, true);
    }

    /**
     * @param hotThreshold visits of a region before it is translated (0 = translate on first visit)
     * @param background translate on the background compiler thread; the region keeps running in the interpreter
     *                   until its translation is ready
     * @param chain      regions enter the next translated region directly where they can (see
     *                   {@link CompiledBlock}); false sends every exit back through the dispatcher
     */
    public JitEngine(int hotThreshold, boolean background, boolean chain) {
        if (hotThreshold < 0) {
            throw new IllegalArgumentException("JIT hot threshold must be >= 0, got " + hotThreshold);
        }
        this.hotThreshold = hotThreshold;
        this.background = background;
        this.entryDepth = chain ? 0 : CompiledBlock.MAX_CHAIN_DEPTH;
    }

    private static HartState state(Hart h) {
        if (EngineSupport.engineData(h) instanceof HartState s) {
            return s;
        }
        HartState s = new HartState(h);
        EngineSupport.setEngineData(h, s);
        return s;
    }

    @Override
    public int execute(Hart h, int budget) {
        HartState st = state(h);
        // Between batches the hart may have been paused and dirty logging switched on or off: the one change to
        // the fast-path checks that does not move the hart's MMU epoch (regions revalidate against that).
        st.mem.refresh();
        GuestMemory ram = EngineSupport.ram(h);
        long ramBase = ram.base();
        long[] x = EngineSupport.x(h);
        int n = 0;
        // The entry run last in this call: its successor link usually names the next one, which saves the hash
        // probe. Reset per call, so entries dropped by BlockMap.clear() are never reached again through links.
        BlockMap.Entry prev = null;
        st.linkFrom = null;
        while (n < budget) {
            long pc = EngineSupport.pc(h);
            long pa = EngineSupport.fetchPhysical(h, pc);
            if (pa >= 0) {
                BlockMap.Entry e;
                if (prev != null && prev.succPa == pa) {
                    e = prev.succ;
                } else {
                    e = st.map.get(pa);
                    if (prev != null) {
                        prev.succPa = pa;
                        prev.succ = e;
                    }
                }
                prev = e;
                if (st.linkFrom != null) {
                    st.linkFrom.links[st.linkSite] = e;
                    st.linkFrom = null;
                }
                CompiledBlock b = e.block;
                int page = (int) ((pa - ramBase) >>> 12);
                boolean valid = b != null && e.pageState == ram.codeState(page);
                if (valid && e.length > budget - n && n > 0 && SHORT_BATCHES) {
                    // The region might overrun the rest of the batch. Interpreting it instead costs ~25x per
                    // instruction (measured: ~1 % of sha256's instructions went that way, a fifth of its time), so
                    // end the batch short; the caller starts the next one at once.
                    st.shortBatches++;
                    break;
                }
                if (valid && e.length <= budget - n) {
                    // The MMU epoch check for the region, here rather than in every region's prologue: a trap,
                    // xRET or CSR write the dispatcher ran since the last region may have moved it; one compare in
                    // this method instead of a call per region entry (JFR put ~7 % of gzip's samples on
                    // JitMem.revalidate called from regions, ~21 instructions per entry).
                    st.mem.revalidate();
                    int k = b.run(h, x, pc, budget - n, entryDepth);
                    EngineSupport.retired(h, k);
                    n += k;
                    st.runs++;
                    if (STATS) {
                        st.compiled += k;
                    }
                } else {
                    n += slowPath(h, st, e, ram, page, budget - n);
                }
            } else {
                st.linkFrom = null;
                if (pa == EngineSupport.FETCH_NOT_RAM) {
                    n += EngineSupport.interpret(h, budget - n, true);
                }
            }
            if (EngineSupport.endBatch(h)) {
                break;
            }
        }
        EngineSupport.clearEndBatch(h);
        st.linkFrom = null;
        if (STATS && System.nanoTime() - st.lastReport > 5_000_000_000L) {
            st.lastReport = System.nanoTime();
            LOG.log(System.Logger.Level.INFO, "event=jit-stats hart=" + h.hartId() + " translations="
                    + st.translations + " queue_full=" + st.queueFull + " short_batches=" + st.shortBatches + " stale=" + st.stale + " entries=" + st.map.size() + " translate_ms="
                    + st.translateNanos / 1_000_000 + " region_runs=" + st.runs + " slow_accesses=" + st.mem.slowAccesses + " slow_causes=" + java.util.Arrays.toString(st.mem.slowCauses).replace(" ", "") + " chained_runs=" + st.map.chainedRuns() + " insns_compiled=" + st.compiled + " insns_interpreted="
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
        if (e.block == null && !e.interpretOnly) {
            if (e.queued) {
                BackgroundCompiler.Ready r = e.ready;
                if (r != null && install(st, e, r.result(), r.pageState(), r.nanos())) {
                    return runFresh(h, st, e, ram, page, budget, entryDepth);
                }
            } else if (e.hits++ >= hotThreshold) {
                if (background) {
                    if (BackgroundCompiler.get().submit(ram, e)) {
                        e.queued = true;
                    } else {
                        st.queueFull++;
                        e.hits = hotThreshold / 2; // the compiler is behind: ask again some visits later
                    }
                } else {
                    int pageState = ram.watchCode(e.pa - ram.base());
                    long t0 = System.nanoTime();
                    Optional<Translator.Result> r = st.translator().translate(ram, e.pa);
                    if (install(st, e, r, pageState, System.nanoTime() - t0)) {
                        return runFresh(h, st, e, ram, page, budget, entryDepth);
                    }
                }
            }
        }
        // A region whose first instruction the translator leaves alone (ECALL, xRET, WFI, an instruction across the
        // page end) steps just that one instruction: what follows it is usually translated (a 4-byte instruction
        // at offset 0xffe of busybox's gzip loop used to drag ~1 % of gzip's instructions into the interpreter,
        // up to the next jump, at ~25x the cost).
        int k = EngineSupport.interpret(h, e.interpretOnly ? 1 : budget, true);
        st.interpreted += k;
        return k;
    }

    /** Takes a finished translation into {@code e}; true when there is a region to run. */
    private static boolean install(HartState st, BlockMap.Entry e, Optional<Translator.Result> r, int pageState,
            long nanos) {
        e.queued = false;
        e.ready = null;
        e.pageState = pageState;
        st.translations++;
        st.translateNanos += nanos;
        if (r.isPresent()) {
            r.get().block().mem = st.mem;
            e.block = r.get().block();
            e.length = r.get().length();
            return true;
        }
        e.interpretOnly = true;
        return false;
    }

    /** Runs a just-installed region if it is still valid and fits the budget, else interprets up to the next jump. */
    private static int runFresh(Hart h, HartState st, BlockMap.Entry e, GuestMemory ram, int page, int budget,
            int depth) {
        int k;
        if (e.length <= budget && ram.codeState(page) == e.pageState) {
            st.mem.revalidate();
            k = e.block.run(h, EngineSupport.x(h), EngineSupport.pc(h), budget, depth);
            EngineSupport.retired(h, k);
            st.compiled += k;
        } else {
            k = EngineSupport.interpret(h, budget, true);
            st.interpreted += k;
        }
        return k;
    }

    /** Loads and stores of {@code h}'s translated code that missed the inlined fast path (tests, diagnostics). */
    public static long slowAccesses(Hart h) {
        return EngineSupport.engineData(h) instanceof HartState s ? s.mem.slowAccesses : 0;
    }

    /** Instructions {@code h}'s dispatcher left to the interpreter (for tests and diagnostics). */
    public static long interpreted(Hart h) {
        return EngineSupport.engineData(h) instanceof HartState s ? s.interpreted : 0;
    }

    /** Times {@code h}'s dispatcher entered a translated region (for tests and diagnostics). */
    public static long regionRuns(Hart h) {
        return EngineSupport.engineData(h) instanceof HartState s ? s.runs : 0;
    }

    /** Called by {@link CompiledBlock#chainTarget} when exit site {@code site} of {@code from} had no usable link. */
    static void missedLink(Hart h, CompiledBlock from, int site) {
        if (EngineSupport.engineData(h) instanceof HartState s) {
            s.linkFrom = from;
            s.linkSite = site;
        }
    }

    /** Times a translated region of {@code h} entered the next one directly, without the dispatcher (tests). */
    public static long chainedRuns(Hart h) {
        return EngineSupport.engineData(h) instanceof HartState s ? s.map.chainedRuns() : 0;
    }

    /** Regions translated so far by {@code h} (for tests and diagnostics). */
    public static long translations(Hart h) {
        return EngineSupport.engineData(h) instanceof HartState s ? s.translations : 0;
    }
}
