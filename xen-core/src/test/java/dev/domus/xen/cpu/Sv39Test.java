// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sv39 page-table walks: 4 KiB pages and superpages, permissions, A/D updates, faults. */
class Sv39Test {
    private static final long ROOT = CpuRig.RAM + 0x10000;
    private static final long L1 = CpuRig.RAM + 0x11000;
    private static final long L0 = CpuRig.RAM + 0x12000;
    private static final int V = 1;
    private static final int R = 2;
    private static final int W = 4;
    private static final int X = 8;
    private static final int U = 16;
    private static final int A = 64;
    private static final int D = 128;

    private CpuRig rig;
    private Hart h;

    @BeforeEach
    void setUp() {
        rig = new CpuRig();
        h = rig.h;
        h.satp = (8L << 60) | (ROOT >>> 12);
        h.priv = Hart.PRIV_S;
        h.mmuModeChanged();
    }

    private void pte(long table, int index, long pa, int flags) {
        rig.mem.storeLong(table - CpuRig.RAM + 8L * index, ((pa >>> 12) << 10) | flags);
    }

    private long pteAt(long table, int index) {
        return rig.mem.loadLong(table - CpuRig.RAM + 8L * index);
    }

    @Test
    void fourKilobytePageTranslatesAndSetsAccessedAndDirty() {
        pte(ROOT, 0, L1, V);
        pte(L1, 0, L0, V);
        pte(L0, 5, CpuRig.RAM + 0x40000, V | R | W);
        long va = 5L << 12 | 0x123;
        assertThat(h.translateLoad(va)).isEqualTo(CpuRig.RAM + 0x40123);
        assertThat(pteAt(L0, 5) & (A | D)).isEqualTo(A);
        assertThat(h.translateStore(va)).isEqualTo(CpuRig.RAM + 0x40123);
        assertThat(pteAt(L0, 5) & (A | D)).isEqualTo(A | D);
    }

    @Test
    void gigapageAndMegapageMapLowBitsFromTheVirtualAddress() {
        pte(ROOT, 2, 0x8000_0000L, V | R | W | X | A | D); // 1 GiB at VA 0x8000_0000
        assertThat(h.translateLoad(0x8012_3456L)).isEqualTo(0x8012_3456L);
        pte(ROOT, 0, L1, V);
        pte(L1, 1, CpuRig.RAM + 0x20_0000, V | R | A); // 2 MiB at VA 0x20_0000
        assertThat(h.translateLoad(0x2f_fffcL)).isEqualTo(CpuRig.RAM + 0x2f_fffc);
    }

    @Test
    void misalignedSuperpageFaults() {
        pte(ROOT, 0, L1, V);
        pte(L1, 1, CpuRig.RAM + 0x1000, V | R | A); // megapage PPN not 2 MiB aligned
        assertThatThrownBy(() -> h.translateLoad(0x20_0000L)).isInstanceOf(TrapException.class)
                .satisfies(t -> assertThat(((TrapException) t).cause).isEqualTo(Causes.LOAD_PAGE_FAULT));
    }

    @Test
    void nonCanonicalAddressFaults() {
        assertThatThrownBy(() -> h.translateFetch(0x0000_0040_0000_0000L)).isInstanceOf(TrapException.class)
                .satisfies(t -> assertThat(((TrapException) t).cause).isEqualTo(Causes.INSN_PAGE_FAULT));
    }

    @Test
    void writeOnlyPteIsReserved() {
        pte(ROOT, 0, L1, V);
        pte(L1, 0, L0, V);
        pte(L0, 1, CpuRig.RAM, V | W | A | D);
        assertThatThrownBy(() -> h.translateStore(0x1000L)).isInstanceOf(TrapException.class)
                .satisfies(t -> assertThat(((TrapException) t).cause).isEqualTo(Causes.STORE_PAGE_FAULT));
    }

    @Test
    void userPagesNeedSumForSupervisorDataAndNeverExecute() {
        pte(ROOT, 0, L1, V);
        pte(L1, 0, L0, V);
        pte(L0, 1, CpuRig.RAM + 0x40000, V | R | W | X | U | A | D);
        assertThatThrownBy(() -> h.translateLoad(0x1000L)).isInstanceOf(TrapException.class);
        h.mstatus |= Hart.MSTATUS_SUM;
        h.mmuModeChanged();
        assertThat(h.translateLoad(0x1000L)).isEqualTo(CpuRig.RAM + 0x40000);
        assertThatThrownBy(() -> h.translateFetch(0x1000L)).isInstanceOf(TrapException.class);
    }

    @Test
    void mxrMakesExecuteOnlyPagesReadable() {
        pte(ROOT, 0, L1, V);
        pte(L1, 0, L0, V);
        pte(L0, 1, CpuRig.RAM + 0x40000, V | X | A);
        assertThatThrownBy(() -> h.translateLoad(0x1000L)).isInstanceOf(TrapException.class);
        h.mstatus |= Hart.MSTATUS_MXR;
        h.mmuModeChanged();
        assertThat(h.translateLoad(0x1000L)).isEqualTo(CpuRig.RAM + 0x40000);
    }

    @Test
    void staleTlbEntryIsUsedUntilSfence() {
        pte(ROOT, 0, L1, V);
        pte(L1, 0, L0, V);
        pte(L0, 1, CpuRig.RAM + 0x40000, V | R | A);
        assertThat(h.translateLoad(0x1000L)).isEqualTo(CpuRig.RAM + 0x40000);
        pte(L0, 1, CpuRig.RAM + 0x50000, V | R | A);
        assertThat(h.translateLoad(0x1000L)).isEqualTo(CpuRig.RAM + 0x40000);
        h.flushTlb();
        assertThat(h.translateLoad(0x1000L)).isEqualTo(CpuRig.RAM + 0x50000);
    }

    @Test
    void addressFlushDropsEveryPieceOfASuperpageAndNothingElse() {
        // A 2 MiB page at VA 0x20_0000 and a 4 KiB page at VA 0x1000 (another vpn block): warm pieces of both.
        pte(ROOT, 0, L1, V);
        pte(L1, 0, L0, V);
        pte(L0, 1, CpuRig.RAM + 0x40000, V | R | A);
        pte(L1, 1, CpuRig.RAM + 0x20_0000, V | R | A);
        for (long va = 0x20_0000L; va < 0x40_0000L; va += 0x1000) {
            h.translateLoad(va);
        }
        h.translateLoad(0x1000L);
        pte(L1, 1, CpuRig.RAM + 0x40_0000, V | R | A); // remap the 2 MiB page
        pte(L0, 1, CpuRig.RAM + 0x50000, V | R | A);   // and the 4 KiB page
        h.flushTlbPage(0x2a_b123L); // one address inside the superpage, as Linux's flush_tlb_page does
        for (long va = 0x20_0000L; va < 0x40_0000L; va += 0x1000) {
            assertThat(h.translateLoad(va)).as("piece at 0x%x", va).isEqualTo(CpuRig.RAM + 0x40_0000 + (va - 0x20_0000L));
        }
        assertThat(h.translateLoad(0x1000L)).as("4 KiB page outside the flushed block").isEqualTo(CpuRig.RAM + 0x40000);

        // A 1 GiB page: its pieces may sit at any index.
        pte(ROOT, 2, 0x8000_0000L, V | R | A);
        for (long va = 0x8000_0000L; va < 0x8000_0000L + (8L << 20); va += 0x1000) {
            h.translateLoad(va);
        }
        pte(ROOT, 2, 0xc000_0000L, V | R | A);
        h.flushTlbPage(0x8000_0000L);
        for (long va = 0x8000_0000L; va < 0x8000_0000L + (8L << 20); va += 0x1000) {
            assertThat(h.translateLoad(va)).as("gigapage piece at 0x%x", va).isEqualTo(va + 0x4000_0000L);
        }
    }

    @Test
    void pageFaultTrapReportsFaultingAddress() {
        h.stvec = CpuRig.RAM + 0x400;
        h.medeleg = 1L << Causes.LOAD_PAGE_FAULT;
        // identity-map the code page so the load instruction itself can be fetched
        pte(ROOT, 2, 0x8000_0000L, V | R | W | X | A | D);
        h.x[11] = 0x3000;
        rig.exec(CpuRig.i(0, 11, 3, 10, 0x03));
        assertThat(h.scause).isEqualTo(Causes.LOAD_PAGE_FAULT);
        assertThat(h.stval).isEqualTo(0x3000);
        assertThat(h.sepc).isEqualTo(CpuRig.RAM);
    }
}
