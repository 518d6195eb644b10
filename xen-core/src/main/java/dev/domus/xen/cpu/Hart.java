// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import dev.domus.xen.bus.Bus;
import dev.domus.xen.cpu.fpu.Fpu;
import dev.domus.xen.devices.irq.HartInterrupts;
import dev.domus.xen.devices.irq.MachineClock;
import dev.domus.xen.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One RISC-V hart: architectural state (integer and FP registers, pc, privilege, CSRs), trap and interrupt entry,
 * the Sv39 MMU with a direct-mapped soft TLB, and the memory access paths the execution engine uses.
 *
 * <p>Threading: all state is owned by the hart's vCPU thread except {@link #mipHw} (set by interrupt controllers
 * from any thread) and the remote-request flags (TLB shootdowns, set by other harts through SBI RFENCE).
 */
public final class Hart {
    public static final int PRIV_U = 0;
    public static final int PRIV_S = 1;
    public static final int PRIV_M = 3;

    // mstatus fields
    static final long MSTATUS_SIE = 1L << 1;
    static final long MSTATUS_MIE = 1L << 3;
    static final long MSTATUS_SPIE = 1L << 5;
    static final long MSTATUS_MPIE = 1L << 7;
    static final long MSTATUS_SPP = 1L << 8;
    static final int MSTATUS_MPP_SHIFT = 11;
    static final long MSTATUS_MPP = 3L << MSTATUS_MPP_SHIFT;
    static final long MSTATUS_FS = 3L << 13;
    static final long MSTATUS_MPRV = 1L << 17;
    static final long MSTATUS_SUM = 1L << 18;
    static final long MSTATUS_MXR = 1L << 19;
    static final long MSTATUS_TVM = 1L << 20;
    static final long MSTATUS_TW = 1L << 21;
    static final long MSTATUS_TSR = 1L << 22;
    static final long MSTATUS_UXL_SXL = (2L << 32) | (2L << 34);
    static final long MSTATUS_SD = 1L << 63;
    private static final long MSTATUS_WRITABLE = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP
            | MSTATUS_MPP | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW
            | MSTATUS_TSR;
    private static final long SSTATUS_MASK = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM
            | MSTATUS_MXR | (3L << 32) | MSTATUS_SD;

    /** misa: RV64 with A, C, D, F, I, M, S, U. */
    static final long MISA = (2L << 62) | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12)
            | (1 << 18) | (1 << 20);
    static final long MEDELEG_MASK = 0xB3FFL;
    static final long MIDELEG_MASK = 0x222L;
    static final long MIE_MASK = 0xAAAL;
    static final long MENVCFG_STCE = 1L << 63;
    static final long MENVCFG_MASK = MENVCFG_STCE | 1L;

    static final long SSIP = 1L << HartInterrupts.SSIP;
    static final long MSIP = 1L << HartInterrupts.MSIP;
    static final long STIP = 1L << HartInterrupts.STIP;
    static final long MTIP = 1L << HartInterrupts.MTIP;
    static final long SEIP = 1L << HartInterrupts.SEIP;
    static final long MEIP = 1L << HartInterrupts.MEIP;

    // PTE bits
    static final int PTE_V = 1;
    static final int PTE_R = 2;
    static final int PTE_W = 4;
    static final int PTE_X = 8;
    static final int PTE_U = 16;
    static final int PTE_A = 64;
    static final int PTE_D = 128;

    static final int ACC_FETCH = 0;
    static final int ACC_LOAD = 1;
    static final int ACC_STORE = 2;

    private static final int TLB_BITS = 11;
    private static final int TLB_SIZE = 1 << TLB_BITS;
    static final int TLB_MASK = TLB_SIZE - 1;
    /**
     * Synthetic TLB flag above the PTE bits: the whole 4 KiB page is plain RAM, so an access that does not cross
     * the page needs no bounds or MMIO check (the JIT's inlined fast path requires it; the interpreter ignores it).
     */
    static final int TLB_RAM = 0x100;

    // ---- architectural state ----
    final int hartId;
    final long[] x = new long[32];
    final long[] f = new long[32];
    long pc;
    int priv = PRIV_M;
    final Fpu fpu = new Fpu();
    int frm;

    long mstatus = MSTATUS_UXL_SXL;
    long medeleg;
    long mideleg;
    long mie;
    /** Interrupt-pending bits driven by devices and software; SEIP here is the external (PLIC) signal. */
    final AtomicLong mipHw = new AtomicLong();
    /** Software-writable SEIP (M-mode write to mip), ORed into reads. */
    boolean seipSoft;
    long mtvec;
    long mscratch;
    long mepc;
    long mcause;
    long mtval;
    long mcounteren;
    long mcountinhibit;
    long menvcfg;
    long stvec;
    long sscratch;
    long sepc;
    long scause;
    long stval;
    long scounteren;
    long senvcfg;
    long satp;
    long stimecmp = -1L;
    final long[] pmpaddr = new long[64];
    final long[] pmpcfg = new long[8];
    long instret;
    long cycleOffset;

    /** LR reservation: physical address (or -1) and the value loaded. */
    long reservation = -1;
    long reservationValue;

    /** Set by WFI; the vCPU loop parks until an interrupt is pending. */
    boolean waitingForInterrupt;
    /** Ask the engine to end the current batch after this instruction (interrupt state may have changed). */
    boolean endBatch;

    // ---- machine wiring ----
    final GuestMemory ram;
    final long ramBase;
    final long ramSize;
    /** Host address of RAM offset 0; RAM is unmapped only after the machine's vCPU threads have ended. */
    private final long ramHost;
    /** All of the address space as one segment in a constant: C2 folds its bounds and scope checks away. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    final Bus bus;
    final MachineClock clock;
    final TrapException trap = new TrapException();
    Firmware firmware;
    volatile Thread thread;
    /** Remote requests from other harts (SBI RFENCE / IPI side effects), handled at batch boundaries. */
    final AtomicLong remoteRequests = new AtomicLong();
    static final long REMOTE_FLUSH_TLB = 1;
    static final long REMOTE_FENCE_I = 2;

    // ---- soft TLB: virtual page -> physical page + leaf PTE flags ----
    // Package-private: the JIT's generated code reads the three arrays directly (EngineSupport), for its inlined
    // load/store fast path.
    final long[] tlbTag = new long[TLB_SIZE];
    final long[] tlbPage = new long[TLB_SIZE];
    /** Leaf PTE flags (bits 0-7) plus {@link #TLB_RAM}. */
    final int[] tlbFlags = new int[TLB_SIZE];
    /** Page-table level the entry came from (0 = 4 KiB page, 1 = 2 MiB, 2 = 1 GiB). */
    private final byte[] tlbLevel = new byte[TLB_SIZE];
    /** Superpage-derived entries inserted since the last full flush (bounds the work of address flushes). */
    private int superpageEntries;
    /** Of those, the ones cut from a 1 GiB page (their pieces may sit at any index). */
    private int gigapageEntries;
    /** Per-access-type fast-path permission checks: (flags & mask) == match; recomputed by {@link #mmuModeChanged}. */
    // Package-private for EngineSupport's jit* accessors (the JIT's inlined fast path uses the same checks).
    int loadMask;
    int loadMatch;
    int storeMask;
    int storeMatch;
    private int fetchMask;
    private int fetchMatch;
    private boolean fetchTranslated;
    boolean dataTranslated;
    private int dataPriv;

    /** Per-hart state of the execution engine (the JIT's translation cache); owned by the vCPU thread. */
    Object engineData;

    // ---- fetch page cache: the engine reads instructions straight from RAM while pc stays on one page ----
    long fetchVpage = -1;
    long fetchRamOffset;

    // ---- decoded page the interpreter executes from (DecodeCache): valid while pc & ~0xfff == decTag ----
    /** Virtual address of the attached decoded page, or -1 (odd, so no pc with bit 0 clear ever matches). */
    long decTag = -1;
    long[] decSlots;
    /** RAM offset of the attached page, or -1: a store there drops the attachment. */
    long decRamPage = -1;
    /** The page's code state when it was attached (the slots are valid while it is unchanged). */
    int decState;
    /**
     * The attachment before the current one, swapped back in without translation or table lookup: code mostly
     * changes pages by calling into another page and returning (a boot changes pages every ~35 instructions).
     * Dropped with every translation change, like {@link #decTag}.
     */
    private long prevTag = -1;
    private long[] prevSlots;
    private long prevRamPage;
    private int prevState;
    final DecodeCache decodeCache;

    public Hart(int hartId, GuestMemory ram, Bus bus, MachineClock clock) {
        this.hartId = hartId;
        this.ram = ram;
        this.ramBase = ram.base();
        this.ramHost = ram.segment().address();
        this.ramSize = ram.size();
        this.bus = bus;
        this.clock = clock;
        this.decodeCache = new DecodeCache(ram);
        flushTlb();
        mmuModeChanged();
    }

    public int hartId() { return hartId; }

    public long pc() { return pc; }

    public void setPc(long pc) { this.pc = pc; }

    public int privilege() { return priv; }

    public long reg(int i) { return x[i]; }

    public void setReg(int i, long v) {
        if (i != 0) {
            x[i] = v;
        }
    }

    public long fpReg(int i) { return f[i]; }

    public void setFpReg(int i, long v) { f[i] = v; }

    public long instructionsRetired() { return instret; }

    public GuestMemory memory() { return ram; }

    public void attachFirmware(Firmware fw) { this.firmware = fw; }

    /** True while the hart is in WFI (or an SBI suspend) waiting for an interrupt. */
    public boolean waitingForInterrupt() { return waitingForInterrupt; }

    public void clearWaitingForInterrupt() { waitingForInterrupt = false; }

    public void bindThread(Thread t) { this.thread = t; }

    /** Resets to a given privilege and pc with translation off; registers are cleared. */
    public void reset(int privilege, long entry) {
        java.util.Arrays.fill(x, 0);
        java.util.Arrays.fill(f, 0);
        pc = entry;
        priv = privilege;
        mstatus = MSTATUS_UXL_SXL;
        satp = 0;
        reservation = -1;
        waitingForInterrupt = false;
        flushTlb();
        mmuModeChanged();
    }

    /**
     * Prepares M-mode state the way an SBI firmware leaves it for a supervisor: S-mode interrupts and the usual
     * exceptions delegated, counters and Sstc enabled, FPU on.
     */
    public void enterSupervisorFromFirmware(long entry, long a0, long a1) {
        mideleg = MIDELEG_MASK;
        medeleg = (1L << Causes.INSN_MISALIGNED) | (1L << Causes.INSN_ACCESS) | (1L << Causes.ILLEGAL_INSN)
                | (1L << Causes.BREAKPOINT) | (1L << Causes.LOAD_MISALIGNED) | (1L << Causes.LOAD_ACCESS)
                | (1L << Causes.STORE_MISALIGNED) | (1L << Causes.STORE_ACCESS) | (1L << Causes.ECALL_U)
                | (1L << Causes.INSN_PAGE_FAULT) | (1L << Causes.LOAD_PAGE_FAULT)
                | (1L << Causes.STORE_PAGE_FAULT);
        // Like OpenSBI: counters readable from S and, through scounteren, from U (the vDSO and rdtime need it).
        mcounteren = 0xffffffffL;
        scounteren = 0xffffffffL;
        menvcfg = MENVCFG_STCE;
        mie = 0;
        stimecmp = -1L;
        mstatus = (mstatus & ~MSTATUS_FS) | (1L << 13);
        java.util.Arrays.fill(x, 0);
        x[10] = a0;
        x[11] = a1;
        satp = 0;
        priv = PRIV_S;
        pc = entry;
        mstatus &= ~(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_MPRV);
        waitingForInterrupt = false;
        reservation = -1;
        flushTlb();
        mmuModeChanged();
    }

    /** The architectural state for a snapshot; call only while the hart's thread is parked (machine paused). */
    public HartState captureState() {
        long[] c = {mstatus, medeleg, mideleg, mie, mtvec, mscratch, mepc, mcause, mtval, mcounteren, mcountinhibit,
                menvcfg, stvec, sscratch, sepc, scause, stval, scounteren, senvcfg, satp, stimecmp, instret,
                cycleOffset};
        return new HartState(pc, priv, x, f, frm, fpu.flags(), c, pmpaddr, pmpcfg, mipHw.get(), seipSoft,
                waitingForInterrupt);
    }

    /** Restores {@link #captureState()} output before the hart runs; caches (TLB, fetch page) start empty. */
    public void restoreState(HartState s) {
        System.arraycopy(s.x(), 0, x, 0, 32);
        x[0] = 0;
        System.arraycopy(s.f(), 0, f, 0, 32);
        pc = s.pc();
        priv = s.priv();
        frm = s.frm();
        fpu.setFlags(s.fflags());
        long[] c = s.csrs();
        int i = 0;
        mstatus = c[i++];
        medeleg = c[i++];
        mideleg = c[i++];
        mie = c[i++];
        mtvec = c[i++];
        mscratch = c[i++];
        mepc = c[i++];
        mcause = c[i++];
        mtval = c[i++];
        mcounteren = c[i++];
        mcountinhibit = c[i++];
        menvcfg = c[i++];
        stvec = c[i++];
        sscratch = c[i++];
        sepc = c[i++];
        scause = c[i++];
        stval = c[i++];
        scounteren = c[i++];
        senvcfg = c[i++];
        satp = c[i++];
        stimecmp = c[i++];
        instret = c[i++];
        cycleOffset = c[i];
        System.arraycopy(s.pmpaddr(), 0, pmpaddr, 0, 64);
        System.arraycopy(s.pmpcfg(), 0, pmpcfg, 0, 8);
        mipHw.set(s.mipHw());
        seipSoft = s.seipSoft();
        waitingForInterrupt = s.waitingForInterrupt();
        reservation = -1;
        fetchVpage = -1;
        decTag = -1;
        prevTag = -1;
        decodeCache.clear();
        flushTlb();
        mmuModeChanged();
        endBatch = true;
    }

    // =====================================================================================================
    // Interrupts
    // =====================================================================================================

    /** Sets or clears one mip bit from any thread; wakes the hart when a bit becomes pending. */
    public void setPending(int bit, boolean pending) {
        long m = 1L << bit;
        if (pending) {
            long old = mipHw.getAndUpdate(v -> v | m);
            if ((old & m) == 0) {
                wake();
            }
        } else {
            mipHw.getAndUpdate(v -> v & ~m);
        }
    }

    /** Unparks the vCPU thread (interrupt, remote request, state change). */
    public void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    long mip() {
        long v = mipHw.get();
        if (seipSoft) {
            v |= SEIP;
        }
        return v;
    }

    /** Whether the stimecmp-driven STIP is in effect (Sstc enabled by menvcfg.STCE). */
    boolean sstcActive() {
        return (menvcfg & MENVCFG_STCE) != 0;
    }

    /** Updates timer-driven pending bits from the current time; called at batch boundaries. */
    public void updateTimers(long mtime, long clintCmp) {
        long cur = mipHw.get();
        boolean mtip = Long.compareUnsigned(mtime, clintCmp) >= 0;
        if (mtip != ((cur & MTIP) != 0)) {
            setPending(HartInterrupts.MTIP, mtip);
        }
        if (sstcActive()) {
            boolean stip = Long.compareUnsigned(mtime, stimecmp) >= 0;
            if (stip != ((cur & STIP) != 0)) {
                setPending(HartInterrupts.STIP, stip);
            }
        }
    }

    /** The earliest mtime at which a timer interrupt this hart has enabled would fire (for WFI parking). */
    public long nextTimerDeadline(long clintCmp) {
        long d = -1L;
        if ((mie & MTIP) != 0) {
            d = clintCmp;
        }
        if ((mie & STIP) != 0 && sstcActive() && Long.compareUnsigned(stimecmp, d) < 0) {
            d = stimecmp;
        }
        return d;
    }

    /** True when an interrupt is pending and enabled in mie (the WFI wake-up condition). */
    public boolean interruptPendingForWfi() {
        return (mip() & mie) != 0;
    }

    /** Takes the highest-priority enabled pending interrupt, if any; returns whether one was taken. */
    public boolean checkInterrupts() {
        long pending = mip() & mie;
        if (pending == 0) {
            return false;
        }
        long mEnabled = (priv < PRIV_M || (mstatus & MSTATUS_MIE) != 0) ? pending & ~mideleg : 0;
        long sEnabled = 0;
        if (priv < PRIV_S || (priv == PRIV_S && (mstatus & MSTATUS_SIE) != 0)) {
            sEnabled = pending & mideleg;
        }
        long take = mEnabled != 0 ? mEnabled : sEnabled;
        if (take == 0) {
            return false;
        }
        int cause;
        if ((take & MEIP) != 0) {
            cause = HartInterrupts.MEIP;
        } else if ((take & MSIP) != 0) {
            cause = HartInterrupts.MSIP;
        } else if ((take & MTIP) != 0) {
            cause = HartInterrupts.MTIP;
        } else if ((take & SEIP) != 0) {
            cause = HartInterrupts.SEIP;
        } else if ((take & SSIP) != 0) {
            cause = HartInterrupts.SSIP;
        } else if ((take & STIP) != 0) {
            cause = HartInterrupts.STIP;
        } else {
            return false;
        }
        waitingForInterrupt = false;
        takeTrap(Causes.INTERRUPT | cause, 0);
        return true;
    }

    // =====================================================================================================
    // Traps
    // =====================================================================================================

    /** Enters the trap handler for {@code cause} (interrupt bit set for interrupts), honouring delegation. */
    public void takeTrap(long cause, long tval) {
        boolean interrupt = cause < 0;
        int code = (int) (cause & 63);
        long deleg = interrupt ? mideleg : medeleg;
        reservation = -1;
        if (priv <= PRIV_S && ((deleg >>> code) & 1) != 0) {
            scause = cause;
            sepc = pc;
            stval = tval;
            long s = mstatus;
            s = (s & ~MSTATUS_SPIE) | (((s & MSTATUS_SIE) != 0) ? MSTATUS_SPIE : 0);
            s = (s & ~MSTATUS_SPP) | (priv == PRIV_S ? MSTATUS_SPP : 0);
            s &= ~MSTATUS_SIE;
            mstatus = s;
            priv = PRIV_S;
            long base = stvec & ~3L;
            pc = (interrupt && (stvec & 3) == 1) ? base + 4L * code : base;
        } else {
            if (firmware != null) {
                firmware.machineTrap(this, cause, tval);
                return;
            }
            mcause = cause;
            mepc = pc;
            mtval = tval;
            long s = mstatus;
            s = (s & ~MSTATUS_MPIE) | (((s & MSTATUS_MIE) != 0) ? MSTATUS_MPIE : 0);
            s = (s & ~MSTATUS_MPP) | ((long) priv << MSTATUS_MPP_SHIFT);
            s &= ~MSTATUS_MIE;
            mstatus = s;
            priv = PRIV_M;
            long base = mtvec & ~3L;
            pc = (interrupt && (mtvec & 3) == 1) ? base + 4L * code : base;
        }
        mmuModeChanged();
        endBatch = true;
    }

    void mret() {
        if (priv < PRIV_M) {
            throw illegal(0);
        }
        long s = mstatus;
        int mpp = (int) ((s & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT);
        s = (s & ~MSTATUS_MIE) | (((s & MSTATUS_MPIE) != 0) ? MSTATUS_MIE : 0);
        s |= MSTATUS_MPIE;
        s &= ~MSTATUS_MPP;
        if (mpp != PRIV_M) {
            s &= ~MSTATUS_MPRV;
        }
        mstatus = s;
        priv = mpp;
        pc = mepc;
        reservation = -1;
        mmuModeChanged();
        endBatch = true;
    }

    void sret() {
        if (priv < PRIV_S || (priv == PRIV_S && (mstatus & MSTATUS_TSR) != 0)) {
            throw illegal(0);
        }
        long s = mstatus;
        int spp = (s & MSTATUS_SPP) != 0 ? PRIV_S : PRIV_U;
        s = (s & ~MSTATUS_SIE) | (((s & MSTATUS_SPIE) != 0) ? MSTATUS_SIE : 0);
        s |= MSTATUS_SPIE;
        s &= ~MSTATUS_SPP;
        s &= ~MSTATUS_MPRV;
        mstatus = s;
        priv = spp;
        pc = sepc;
        reservation = -1;
        mmuModeChanged();
        endBatch = true;
    }

    TrapException illegal(int insn) {
        return trap.set(Causes.ILLEGAL_INSN, insn & 0xffffffffL);
    }

    TrapException fault(int cause, long tval) {
        return trap.set(cause, tval);
    }

    /** WFI: illegal in U-mode, or in S-mode when mstatus.TW is set. */
    void wfi(int insn) {
        if (priv == PRIV_U || (priv == PRIV_S && (mstatus & MSTATUS_TW) != 0)) {
            throw illegal(insn);
        }
        waitingForInterrupt = true;
        endBatch = true;
    }

    void sfenceVma(int insn, long va, boolean allAddresses) {
        if (priv == PRIV_U || (priv == PRIV_S && (mstatus & MSTATUS_TVM) != 0)) {
            throw illegal(insn);
        }
        if (allAddresses) {
            flushTlb();
        } else {
            flushTlbPage(va);
        }
    }

    /**
     * SFENCE.VMA with an address: drops the entry for that 4 KiB page and every entry that came from a superpage
     * covering it (the TLB caches superpages as 4 KiB pieces). Far cheaper than a full flush, which Linux would
     * otherwise trigger on every page-table update.
     */
    void flushTlbPage(long va) {
        long vpn = va >>> 12;
        int i = (int) vpn & TLB_MASK;
        if (tlbTag[i] == vpn) {
            tlbTag[i] = -1;
            dropJitTlb(i);
        }
        if (superpageEntries > 0) {
            // Entries cut from a 2 MiB page covering va sit at the 512 consecutive indices of its vpn block (the
            // index is vpn & TLB_MASK); only a 1 GiB page can have left pieces anywhere.
            int from = gigapageEntries > 0 ? 0 : (int) (vpn & ~511L) & TLB_MASK;
            int to = gigapageEntries > 0 ? TLB_SIZE : from + 512;
            for (int j = from; j < to; j++) {
                int level = tlbLevel[j];
                if (level > 0 && tlbTag[j] != -1 && (tlbTag[j] >>> (9 * level)) == (vpn >>> (9 * level))) {
                    tlbTag[j] = -1;
                    dropJitTlb(j);
                }
            }
        }
        fetchVpage = -1;
        decTag = -1;
        prevTag = -1;
    }

    /** Handles TLB shootdowns and fence.i requests posted by other harts. */
    public void serviceRemoteRequests() {
        if (remoteRequests.get() != 0) {
            long r = remoteRequests.getAndSet(0);
            if ((r & (REMOTE_FLUSH_TLB | REMOTE_FENCE_I)) != 0) {
                flushTlb();
            }
        }
    }

    /** Posts a request (TLB flush) to this hart from another thread and wakes it. */
    public void postRemoteRequest(long what) {
        remoteRequests.getAndUpdate(v -> v | what);
        wake();
    }

    /** SBI set_timer: programs the S-mode timer compare and updates STIP right away. */
    public void setTimerCompare(long when, long mtime) {
        stimecmp = when;
        setPending(HartInterrupts.STIP, Long.compareUnsigned(mtime, when) >= 0);
        endBatch = true;
    }

    /**
     * Asks this hart (from another hart's thread) to flush its TLB and, when it is running, waits briefly until it
     * has done so, servicing the caller's own pending requests meanwhile so two harts flushing each other cannot
     * deadlock. A parked hart flushes when it wakes, before executing anything.
     */
    public void requestFlushAndWait(boolean running) {
        postRemoteRequest(REMOTE_FLUSH_TLB);
        if (!running) {
            return;
        }
        long deadline = System.nanoTime() + 2_000_000L;
        while (remoteRequests.get() != 0 && !waitingForInterrupt && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    /** Prepares a non-retentive resume: on wake-up the hart restarts at {@code addr} in S-mode, translation off. */
    public void resumeNonRetentive(long addr, long opaque) {
        x[10] = hartId;
        x[11] = opaque;
        pc = addr;
        priv = PRIV_S;
        satp = 0;
        mstatus &= ~MSTATUS_SIE;
        flushTlb();
        mmuModeChanged();
    }

    /** Reads guest-virtual memory with the current privilege (SBI legacy calls); throws IllegalArgumentException on a fault. */
    public long loadVirtual(long va, int size) {
        try {
            return load(va, size);
        } catch (TrapException e) {
            throw new IllegalArgumentException("cannot read guest address 0x" + Long.toHexString(va));
        }
    }

    // =====================================================================================================
    // CSRs
    // =====================================================================================================

    boolean fpEnabled() {
        return (mstatus & MSTATUS_FS) != 0;
    }

    void markFpDirty() {
        mstatus |= MSTATUS_FS | MSTATUS_SD;
    }

    long readMstatus() {
        long s = mstatus & ~MSTATUS_SD;
        if ((s & MSTATUS_FS) == MSTATUS_FS) {
            s |= MSTATUS_SD;
        }
        return s;
    }

    private boolean counterAllowed(int bit) {
        if (priv == PRIV_M) {
            return true;
        }
        if (((mcounteren >>> bit) & 1) == 0) {
            return false;
        }
        return priv == PRIV_S || ((scounteren >>> bit) & 1) != 0;
    }

    /** Reads a CSR with privilege checks; throws illegal-instruction for a CSR that does not exist or is denied. */
    long csrRead(int csr, int insn) {
        if (((csr >>> 8) & 3) > priv) {
            throw illegal(insn);
        }
        switch (csr) {
            case 0x001:
                if (!fpEnabled()) {
                    throw illegal(insn);
                }
                return fpu.flags();
            case 0x002:
                if (!fpEnabled()) {
                    throw illegal(insn);
                }
                return frm;
            case 0x003:
                if (!fpEnabled()) {
                    throw illegal(insn);
                }
                return (frm << 5) | fpu.flags();
            case 0xC00:
                if (!counterAllowed(0)) {
                    throw illegal(insn);
                }
                return cycles();
            case 0xC01:
                if (!counterAllowed(1)) {
                    throw illegal(insn);
                }
                return clock.mtime();
            case 0xC02:
                if (!counterAllowed(2)) {
                    throw illegal(insn);
                }
                return instret;
            case 0x100:
                return readMstatus() & SSTATUS_MASK;
            case 0x104:
                return mie & mideleg;
            case 0x105:
                return stvec;
            case 0x106:
                return scounteren;
            case 0x10A:
                return senvcfg;
            case 0x140:
                return sscratch;
            case 0x141:
                return sepc;
            case 0x142:
                return scause;
            case 0x143:
                return stval;
            case 0x144:
                return mip() & mideleg;
            case 0x14D:
                if (priv == PRIV_S && !sstcActive()) {
                    throw illegal(insn);
                }
                return stimecmp;
            case 0x180:
                if (priv == PRIV_S && (mstatus & MSTATUS_TVM) != 0) {
                    throw illegal(insn);
                }
                return satp;
            case 0xF11, 0xF12, 0xF13, 0xF15:
                return 0;
            case 0xF14:
                return hartId;
            case 0x300:
                return readMstatus();
            case 0x301:
                return MISA;
            case 0x302:
                return medeleg;
            case 0x303:
                return mideleg;
            case 0x304:
                return mie;
            case 0x305:
                return mtvec;
            case 0x306:
                return mcounteren;
            case 0x30A:
                return menvcfg;
            case 0x320:
                return mcountinhibit;
            case 0x340:
                return mscratch;
            case 0x341:
                return mepc;
            case 0x342:
                return mcause;
            case 0x343:
                return mtval;
            case 0x344:
                return mip();
            case 0x34A, 0x34B:
                return 0;
            case 0xB00:
                return cycles();
            case 0xB02:
                return instret;
            case 0x7A0, 0x7A1, 0x7A2, 0x7A3:
                return 0;
            default:
                if (csr >= 0x3A0 && csr <= 0x3AF) {
                    return (csr & 1) != 0 ? illegalRv64(insn) : pmpcfg[(csr - 0x3A0) >>> 1];
                }
                if (csr >= 0x3B0 && csr <= 0x3EF) {
                    return pmpaddr[csr - 0x3B0];
                }
                if ((csr >= 0xB03 && csr <= 0xB1F) || (csr >= 0x323 && csr <= 0x33F)) {
                    return 0;
                }
                if (csr >= 0xC03 && csr <= 0xC1F) {
                    if (!counterAllowed(csr - 0xC00)) {
                        throw illegal(insn);
                    }
                    return 0;
                }
                throw illegal(insn);
        }
    }

    private long illegalRv64(int insn) {
        throw illegal(insn);
    }

    long cycles() {
        return instret + cycleOffset;
    }

    /** Writes a CSR (after a successful read check by the caller for read-modify-write forms). */
    void csrWrite(int csr, long v, int insn) {
        if (((csr >>> 8) & 3) > priv || (csr >>> 10) == 3) {
            throw illegal(insn);
        }
        switch (csr) {
            case 0x001 -> {
                requireFp(insn);
                fpu.setFlags((int) (v & 0x1f));
                markFpDirty();
            }
            case 0x002 -> {
                requireFp(insn);
                frm = (int) (v & 7);
                markFpDirty();
            }
            case 0x003 -> {
                requireFp(insn);
                fpu.setFlags((int) (v & 0x1f));
                frm = (int) ((v >>> 5) & 7);
                markFpDirty();
            }
            case 0x100 -> writeMstatus((mstatus & ~SSTATUS_MASK) | (v & SSTATUS_MASK));
            case 0x104 -> {
                mie = (mie & ~mideleg) | (v & mideleg & MIE_MASK);
                endBatch = true;
            }
            case 0x105 -> stvec = legalTvec(v, stvec);
            case 0x106 -> scounteren = v & 0xffffffffL;
            case 0x10A -> senvcfg = v & 1;
            case 0x140 -> sscratch = v;
            case 0x141 -> sepc = v & ~1L;
            case 0x142 -> scause = v;
            case 0x143 -> stval = v;
            case 0x144 -> {
                if ((mideleg & SSIP) != 0) {
                    setPending(HartInterrupts.SSIP, (v & SSIP) != 0);
                }
                endBatch = true;
            }
            case 0x14D -> {
                if (priv == PRIV_S && !sstcActive()) {
                    throw illegal(insn);
                }
                stimecmp = v;
                if (sstcActive()) {
                    setPending(HartInterrupts.STIP, Long.compareUnsigned(clock.mtime(), v) >= 0);
                }
                endBatch = true;
            }
            case 0x180 -> {
                if (priv == PRIV_S && (mstatus & MSTATUS_TVM) != 0) {
                    throw illegal(insn);
                }
                long mode = v >>> 60;
                if (mode == 0 || mode == 8) {
                    // ASIDLEN = 0: the ASID field reads as zero, so every satp write flushes the soft TLB.
                    satp = (mode << 60) | (v & ((1L << 44) - 1));
                    flushTlb();
                    mmuModeChanged();
                    endBatch = true;
                }
            }
            case 0x300 -> writeMstatus(v);
            case 0x301 -> { }
            case 0x302 -> medeleg = v & MEDELEG_MASK;
            case 0x303 -> {
                mideleg = v & MIDELEG_MASK;
                endBatch = true;
            }
            case 0x304 -> {
                mie = v & MIE_MASK;
                endBatch = true;
            }
            case 0x305 -> mtvec = legalTvec(v, mtvec);
            case 0x306 -> mcounteren = v & 0xffffffffL;
            case 0x30A -> {
                menvcfg = v & MENVCFG_MASK;
                endBatch = true;
            }
            case 0x320 -> mcountinhibit = v & 0xfffffffdL;
            case 0x340 -> mscratch = v;
            case 0x341 -> mepc = v & ~1L;
            case 0x342 -> mcause = v;
            case 0x343 -> mtval = v;
            case 0x344 -> {
                long writable = SSIP | SEIP | (sstcActive() ? 0 : STIP);
                if ((writable & SSIP) != 0) {
                    setPending(HartInterrupts.SSIP, (v & SSIP) != 0);
                }
                if ((writable & STIP) != 0) {
                    setPending(HartInterrupts.STIP, (v & STIP) != 0);
                }
                seipSoft = (v & SEIP) != 0;
                endBatch = true;
            }
            case 0x34A, 0x34B -> { }
            case 0xB00 -> cycleOffset = v - instret;
            case 0xB02 -> {
                // The instruction writing minstret retires after the write takes effect: compensate.
                cycleOffset += instret - (v - 1);
                instret = v - 1;
            }
            case 0x7A0, 0x7A1, 0x7A2, 0x7A3 -> { }
            default -> {
                if (csr >= 0x3A0 && csr <= 0x3AF) {
                    if ((csr & 1) != 0) {
                        throw illegal(insn);
                    }
                    pmpcfg[(csr - 0x3A0) >>> 1] = v;
                } else if (csr >= 0x3B0 && csr <= 0x3EF) {
                    pmpaddr[csr - 0x3B0] = v & ((1L << 54) - 1);
                } else if ((csr >= 0xB03 && csr <= 0xB1F) || (csr >= 0x323 && csr <= 0x33F)) {
                    // hardware performance monitors: hardwired to zero
                } else {
                    throw illegal(insn);
                }
            }
        }
    }

    private void requireFp(int insn) {
        if (!fpEnabled()) {
            throw illegal(insn);
        }
    }

    private static long legalTvec(long v, long old) {
        long mode = v & 3;
        if (mode >= 2) {
            return old;
        }
        return v & ~2L;
    }

    private void writeMstatus(long v) {
        long nv = (mstatus & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
        if (((nv & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT) == 2) {
            nv = (nv & ~MSTATUS_MPP) | (mstatus & MSTATUS_MPP);
        }
        nv |= MSTATUS_UXL_SXL;
        long changed = nv ^ mstatus;
        mstatus = nv;
        if ((changed & ~(MSTATUS_SIE | MSTATUS_MIE)) == 0 && (nv & changed) == 0) {
            // Nothing changed, or only interrupt enables were cleared (every spin_lock_irqsave in Linux): no effect
            // on translation, and no interrupt can become deliverable, so the batch and the fetch page cache go on.
            // Ending the batch here made Linux boot run ~240 k batches of ~600 instructions.
            return;
        }
        mmuModeChanged();
        endBatch = true;
    }

    // =====================================================================================================
    // MMU
    // =====================================================================================================

    /** Drops every cached translation (satp write, SFENCE.VMA, remote shootdown). */
    public void flushTlb() {
        java.util.Arrays.fill(tlbTag, -1L);
        if (jitTlb != null) {
            for (long[] set : jitTlb) {
                java.util.Arrays.fill(set, -1L);
            }
        }
        superpageEntries = 0;
        gigapageEntries = 0;
        fetchVpage = -1;
        decTag = -1;
        prevTag = -1;
    }

    /**
     * The JIT's folded TLBs (see {@code cpu.jit.JitMem}), or null: per set and TLB index four longs, the first two
     * tags valid only while entry i of this TLB holds the same page. So every change of an entry here drops the
     * same index there ({@link #dropJitTlb}), and the hart's own flush logic covers them.
     */
    long[][] jitTlb;

    private void dropJitTlb(int i) {
        long[][] sets = jitTlb;
        if (sets != null) {
            for (long[] set : sets) {
                set[4 * i] = -1;
                set[4 * i + 1] = -1;
            }
        }
    }

    /** Moves on with every {@link #mmuModeChanged}: the JIT re-takes its copies of the checks when it differs. */
    int mmuEpoch;

    /** Recomputes the fast-path permission checks after a change of privilege, satp or mstatus. */
    void mmuModeChanged() {
        boolean sv39 = (satp >>> 60) == 8;
        int dp = priv;
        if (priv == PRIV_M && (mstatus & MSTATUS_MPRV) != 0) {
            dp = (int) ((mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT);
        }
        dataPriv = dp;
        fetchTranslated = sv39 && priv != PRIV_M;
        dataTranslated = sv39 && dp != PRIV_M;
        boolean sum = (mstatus & MSTATUS_SUM) != 0;
        int userBit = dp == PRIV_U ? PTE_U : 0;
        int userCheck = (dp == PRIV_S && sum) ? 0 : PTE_U;
        loadMask = PTE_R | PTE_A | userCheck;
        loadMatch = PTE_R | PTE_A | userBit;
        storeMask = PTE_W | PTE_D | PTE_A | userCheck;
        storeMatch = PTE_W | PTE_D | PTE_A | userBit;
        fetchMask = PTE_X | PTE_A | PTE_U;
        fetchMatch = PTE_X | PTE_A | (priv == PRIV_U ? PTE_U : 0);
        fetchVpage = -1;
        decTag = -1;
        prevTag = -1;
        mmuEpoch++;
    }

    /** Translates a data address for a load; returns the physical address or throws a page fault. */
    long translateLoad(long va) {
        return dataTranslated ? translate(va, loadMask, loadMatch, ACC_LOAD) : va;
    }

    long translateStore(long va) {
        return dataTranslated ? translate(va, storeMask, storeMatch, ACC_STORE) : va;
    }

    long translateFetch(long va) {
        return fetchTranslated ? translate(va, fetchMask, fetchMatch, ACC_FETCH) : va;
    }

    /** TLB lookup with the access type's fast-path permission check; a miss or a failed check walks the tables. */
    private long translate(long va, int mask, int match, int acc) {
        long vpn = va >>> 12;
        int i = (int) vpn & TLB_MASK;
        if (tlbTag[i] == vpn && (tlbFlags[i] & mask) == match) {
            return tlbPage[i] | (va & 0xfff);
        }
        return walk(va, acc);
    }

    private int pageFaultCause(int acc) {
        return acc == ACC_FETCH ? Causes.INSN_PAGE_FAULT
                : acc == ACC_LOAD ? Causes.LOAD_PAGE_FAULT : Causes.STORE_PAGE_FAULT;
    }

    private int accessFaultCause(int acc) {
        return acc == ACC_FETCH ? Causes.INSN_ACCESS : acc == ACC_LOAD ? Causes.LOAD_ACCESS : Causes.STORE_ACCESS;
    }

    /** Sv39 page-table walk with permission checks and atomic A/D updates; fills the TLB. */
    private long walk(long va, int acc) {
        // Bits 63:39 must all equal bit 38.
        if ((va >> 38) != 0 && (va >> 38) != -1) {
            throw fault(pageFaultCause(acc), va);
        }
        int effPriv = acc == ACC_FETCH ? priv : dataPriv;
        boolean sum = (mstatus & MSTATUS_SUM) != 0;
        boolean mxr = (mstatus & MSTATUS_MXR) != 0;
        while (true) {
            long table = (satp & ((1L << 44) - 1)) << 12;
            long pte = 0;
            long pteAddr = 0;
            int level = 2;
            for (; ; level--) {
                long vpnPart = (va >>> (12 + 9 * level)) & 0x1ff;
                pteAddr = table + vpnPart * 8;
                if (!ram.containsRange(pteAddr, 8)) {
                    throw fault(accessFaultCause(acc), va);
                }
                pte = ram.loadLongVolatile(pteAddr - ramBase);
                if ((pte & PTE_V) == 0 || ((pte & PTE_R) == 0 && (pte & PTE_W) != 0) || (pte >>> 54) != 0) {
                    throw fault(pageFaultCause(acc), va);
                }
                if ((pte & (PTE_R | PTE_X)) != 0) {
                    break;
                }
                // Non-leaf: A, D and U are reserved.
                if ((pte & (PTE_A | PTE_D | PTE_U)) != 0 || level == 0) {
                    throw fault(pageFaultCause(acc), va);
                }
                table = ((pte >>> 10) & ((1L << 44) - 1)) << 12;
            }
            int fl = (int) pte & 0xff;
            boolean user = (fl & PTE_U) != 0;
            boolean ok;
            if (acc == ACC_FETCH) {
                ok = (fl & PTE_X) != 0 && (effPriv == PRIV_U ? user : !user);
            } else {
                boolean privOk = effPriv == PRIV_U ? user : (!user || sum);
                if (acc == ACC_LOAD) {
                    ok = privOk && ((fl & PTE_R) != 0 || (mxr && (fl & PTE_X) != 0));
                } else {
                    ok = privOk && (fl & PTE_W) != 0;
                }
            }
            if (!ok) {
                throw fault(pageFaultCause(acc), va);
            }
            long ppn = (pte >>> 10) & ((1L << 44) - 1);
            if (level > 0 && (ppn & ((1L << (9 * level)) - 1)) != 0) {
                throw fault(pageFaultCause(acc), va); // misaligned superpage
            }
            long newPte = pte | PTE_A | (acc == ACC_STORE ? PTE_D : 0);
            if (newPte != pte) {
                if (ram.compareAndExchangeLong(pteAddr - ramBase, pte, newPte) != pte) {
                    continue; // raced with another hart or the guest: walk again
                }
            }
            long pageMask = (1L << (9 * level)) - 1;
            long ppn4k = (ppn & ~pageMask) | ((va >>> 12) & pageMask);
            long pagePa = ppn4k << 12;
            long vpn = va >>> 12;
            int i = (int) vpn & TLB_MASK;
            dropJitTlb(i);
            tlbTag[i] = vpn;
            tlbPage[i] = pagePa;
            tlbFlags[i] = ((int) newPte & 0xff)
                    | (Long.compareUnsigned(pagePa - ramBase, ramSize - 0x1000) <= 0 ? TLB_RAM : 0);
            tlbLevel[i] = (byte) level;
            if (level > 0) {
                superpageEntries++;
                if (level > 1) {
                    gigapageEntries++;
                }
            }
            return pagePa | (va & 0xfff);
        }
    }

    // =====================================================================================================
    // Memory access (physical side)
    // =====================================================================================================

    private boolean inRam(long pa, int size) {
        return Long.compareUnsigned(pa - ramBase, ramSize - size) <= 0;
    }

    long loadPhys(long pa, int size, long va) {
        if (inRam(pa, size)) {
            long off = pa - ramBase;
            return switch (size) {
                case 1 -> ram.loadByte(off) & 0xffL;
                case 2 -> ram.loadShort(off) & 0xffffL;
                case 4 -> ram.loadInt(off) & 0xffffffffL;
                default -> ram.loadLong(off);
            };
        }
        return mmioRead(pa, size, va, Causes.LOAD_ACCESS);
    }

    void storePhys(long pa, int size, long v, long va) {
        if (inRam(pa, size)) {
            long off = pa - ramBase;
            switch (size) {
                case 1 -> ram.storeByte(off, (byte) v);
                case 2 -> ram.storeShort(off, (short) v);
                case 4 -> ram.storeInt(off, (int) v);
                default -> ram.storeLong(off, v);
            }
            storedTo(off);
            storedTo(off + size - 1);
            return;
        }
        Bus.Mapping m = bus.find(pa);
        if (m == null || (pa & (size - 1)) != 0 || pa - m.base() + size > m.size()) {
            throw fault(Causes.STORE_ACCESS, va);
        }
        m.device().write(pa - m.base(), size, v);
        endBatch = true; // device writes may raise interrupts or stop the machine
    }

    private long mmioRead(long pa, int size, long va, int cause) {
        Bus.Mapping m = bus.find(pa);
        if (m == null || (pa & (size - 1)) != 0 || pa - m.base() + size > m.size()) {
            throw fault(cause, va);
        }
        return m.device().read(pa - m.base(), size);
    }

    // =====================================================================================================
    // Memory access (virtual side, used by the engine)
    // =====================================================================================================

    /** Loads {@code size} bytes (zero-extended) from virtual address {@code va}. Misaligned accesses are allowed. */
    long load(long va, int size) {
        if ((va & 0xfff) > 0x1000 - size) {
            return loadCrossing(va, size);
        }
        long pa = translateLoad(va);
        long off = pa - ramBase;
        if (Long.compareUnsigned(off, ramSize - size) <= 0) {
            // In range (just checked): read at the host address through the constant all-of-memory segment, which
            // spares the RAM segment's own bounds and scope checks (see JitMem).
            long a = ramHost + off;
            return switch (size) {
                case 1 -> ALL.get(ValueLayout.JAVA_BYTE, a) & 0xffL;
                case 2 -> ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, a) & 0xffffL;
                case 4 -> ALL.get(ValueLayout.JAVA_INT_UNALIGNED, a) & 0xffffffffL;
                default -> ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, a);
            };
        }
        return mmioRead(pa, size, va, Causes.LOAD_ACCESS);
    }

    private long loadCrossing(long va, int size) {
        long v = 0;
        // Translate both pages first so a fault is reported before any side effect.
        translateLoad(va);
        translateLoad(va + size - 1);
        for (int i = 0; i < size; i++) {
            long pa = translateLoad(va + i);
            v |= loadPhys(pa, 1, va + i) << (8 * i);
        }
        return v;
    }

    void store(long va, int size, long v) {
        if ((va & 0xfff) > 0x1000 - size) {
            storeCrossing(va, size, v);
            return;
        }
        long pa = translateStore(va);
        long off = pa - ramBase;
        if (Long.compareUnsigned(off, ramSize - size) <= 0) {
            switch (size) {
                case 1 -> ram.storeByte(off, (byte) v);
                case 2 -> ram.storeShort(off, (short) v);
                case 4 -> ram.storeInt(off, (int) v);
                default -> ram.storeLong(off, v);
            }
            storedTo(off);
            return;
        }
        storePhys(pa, size, v, va);
    }

    private void storeCrossing(long va, int size, long v) {
        translateStore(va);
        translateStore(va + size - 1);
        for (int i = 0; i < size; i++) {
            long pa = translateStore(va + i);
            storePhys(pa, 1, v >>> (8 * i), va + i);
        }
    }

    /** Physical address of an aligned atomic access (AMO / LR / SC); misaligned or non-RAM addresses fault. */
    long atomicAddress(long va, int size, boolean isLoadReserved) {
        if ((va & (size - 1)) != 0) {
            throw fault(isLoadReserved ? Causes.LOAD_MISALIGNED : Causes.STORE_MISALIGNED, va);
        }
        long pa = isLoadReserved ? translateLoad(va) : translateStore(va);
        if (!inRam(pa, size)) {
            throw fault(isLoadReserved ? Causes.LOAD_ACCESS : Causes.STORE_ACCESS, va);
        }
        if (!isLoadReserved) {
            storedTo(pa - ramBase);
        }
        return pa;
    }

    /**
     * A store of this hart hit RAM offset {@code off} (the store itself did not cross a page): if that is the
     * decoded page being executed, drop it so the next instruction is fetched through a state check (the store
     * made the page's slots stale). One compare per store.
     */
    private void storedTo(long off) {
        if ((off & ~0xfffL) == decRamPage) {
            decTag = -1;
        }
    }

    // =====================================================================================================
    // Decoded instruction pages (DecodeCache), for the interpreter
    // =====================================================================================================

    /**
     * At the start of a run: keeps the attached decoded page only if nothing wrote it since (a device on this
     * thread, another hart, the loader), so writes are seen at the latest at the next batch, fence.i or page change.
     */
    void revalidateDecoded() {
        if (decTag != -1 && ram.codeState((int) (decRamPage >>> 12)) != decState) {
            decTag = -1;
        }
    }

    /**
     * The slot value of the instruction at {@code pc} when {@code pc} is not on the attached decoded page: fetch
     * page refill (translation, fetch faults) and attach, or decode without caching when the code is not in RAM.
     */
    long decodeMiss(long pc) {
        if ((pc & 1) != 0) {
            throw fault(Causes.INSN_MISALIGNED, pc);
        }
        long tag = pc & ~0xfffL;
        long[] slots;
        if (tag == prevTag && ram.codeState((int) (prevRamPage >>> 12)) == prevState) {
            slots = prevSlots;
            long ramPage = prevRamPage;
            int state = prevState;
            keepPrevious();
            decSlots = slots;
            decRamPage = ramPage;
            decState = state;
        } else {
            if ((pc >>> 12) != fetchVpage && !refillFetchPage(pc)) {
                return decodeUncached(pc);
            }
            keepPrevious();
            slots = decodeCache.attach(fetchRamOffset);
            decSlots = slots;
            decRamPage = fetchRamOffset;
            decState = decodeCache.attachedState;
        }
        decTag = tag;
        long d = slots[((int) pc & 0xfff) >>> 1];
        return d != 0 ? d : decodeSlot(pc);
    }

    /** Makes the current attachment the previous one (if there is one). */
    private void keepPrevious() {
        if (decTag != -1) {
            prevTag = decTag;
            prevSlots = decSlots;
            prevRamPage = decRamPage;
            prevState = decState;
        }
    }

    /** Fetches and decodes the instruction at {@code pc} from outside RAM (never cached). */
    private long decodeUncached(long pc) {
        int lo = fetch16(pc);
        if ((lo & 3) != 3) {
            return DecodeCache.entry(Rvc.expanded(lo), 2, lo);
        }
        return DecodeCache.entry(lo | (fetch16(pc + 2) << 16), 4, 0);
    }

    /** Decodes the instruction at {@code pc} on the attached page into its slot (not cached if it crosses the page). */
    long decodeSlot(long pc) {
        int pageOff = (int) pc & 0xfff;
        int lo = ram.loadShort(decRamPage + pageOff) & 0xffff;
        if ((lo & 3) != 3) {
            return decSlots[pageOff >>> 1] = DecodeCache.entry(Rvc.expanded(lo), 2, lo);
        }
        if (pageOff <= 0xffc) {
            return decSlots[pageOff >>> 1] = DecodeCache.entry(ram.loadInt(decRamPage + pageOff), 4, 0);
        }
        // The upper half is on the next page: fetched (and translated, maybe faulting) every time, never cached.
        return DecodeCache.entry(lo | (fetch16(pc + 2) << 16), 4, 0);
    }

    /** Fetches 16 bits of instruction at {@code va} (which is 2-byte aligned). */
    int fetch16(long va) {
        long pa = translateFetch(va);
        if (!inRam(pa, 2)) {
            throw fault(Causes.INSN_ACCESS, va);
        }
        return ram.loadShort(pa - ramBase) & 0xffff;
    }

    /**
     * Points the fetch page cache at the page holding {@code va}; returns false when the page is not plain RAM
     * (then the caller uses {@link #fetch16}). Throws the fetch fault for an unmapped page.
     */
    boolean refillFetchPage(long va) {
        long pa = translateFetch(va);
        long pageOff = (pa & ~0xfffL) - ramBase;
        if (Long.compareUnsigned(pageOff, ramSize - 0x1000) <= 0) {
            fetchVpage = va >>> 12;
            fetchRamOffset = pageOff;
            return true;
        }
        fetchVpage = -1;
        decTag = -1;
        prevTag = -1;
        if (!inRam(pa, 2)) {
            throw fault(Causes.INSN_ACCESS, va);
        }
        return false;
    }
}
