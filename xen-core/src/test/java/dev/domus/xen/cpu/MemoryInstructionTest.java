// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Loads, stores (sign/zero extension, misaligned and page-crossing accesses), atomics and control transfer. */
class MemoryInstructionTest {
    private static final long DATA = CpuRig.RAM + 0x1000;

    @ParameterizedTest(name = "{0} at +{1}")
    @CsvSource({
        "0, 0, ffffffffffffff80", // LB
        "4, 0, 80", // LBU
        "1, 0, ffffffffffff9080", // LH
        "5, 0, 9080", // LHU
        "2, 0, ffffffffb0a09080", // LW
        "6, 0, b0a09080", // LWU
        "3, 0, f0e0d0c0b0a09080", // LD
        "3, 1, 00f0e0d0c0b0a090", // misaligned LD
        "2, 3, ffffffffe0d0c0b0", // misaligned LW
    })
    void loadsExtendCorrectly(int f3, int offset, String expected) {
        CpuRig rig = new CpuRig();
        rig.mem.storeLong(DATA - CpuRig.RAM, 0xf0e0d0c0b0a09080L);
        rig.mem.storeLong(DATA - CpuRig.RAM + 8, 0);
        rig.x(11, DATA).exec(CpuRig.i(offset, 11, f3, 10, 0x03));
        assertThat(Long.toHexString(rig.x(10))).isEqualTo(Long.toHexString(Long.parseUnsignedLong(expected, 16)));
    }

    @Test
    void storesWriteOnlyTheirWidth() {
        CpuRig rig = new CpuRig();
        rig.x(11, DATA).x(12, 0x1122334455667788L);
        rig.exec(CpuRig.s(1, 12, 11, 1, 0x23)); // sh x12, 1(x11): misaligned halfword
        assertThat(rig.mem.loadLong(DATA - CpuRig.RAM)).isEqualTo(0x0000_0000_0077_8800L);
    }

    @Test
    void storeOutsideRamRaisesAccessFault() {
        CpuRig rig = new CpuRig();
        rig.h.mtvec = CpuRig.RAM + 0x800;
        rig.x(11, 0x4000_0000L).exec(CpuRig.s(0, 12, 11, 3, 0x23));
        assertThat(rig.h.mcause).isEqualTo(Causes.STORE_ACCESS);
        assertThat(rig.h.mtval).isEqualTo(0x4000_0000L);
        assertThat(rig.h.mepc).isEqualTo(CpuRig.RAM);
        assertThat(rig.h.pc).isEqualTo(CpuRig.RAM + 0x800);
    }

    @Test
    void amoAddReturnsOldValueAndStoresSum() {
        CpuRig rig = new CpuRig();
        rig.mem.storeLong(DATA - CpuRig.RAM, 40);
        // amoadd.d a0, a2, (a1)
        rig.x(11, DATA).x(12, 2).exec(0x00c5b52f);
        assertThat(rig.x(10)).isEqualTo(40);
        assertThat(rig.mem.loadLong(DATA - CpuRig.RAM)).isEqualTo(42);
    }

    @Test
    void amoMinuWordComparesUnsignedAndSignExtendsResult() {
        CpuRig rig = new CpuRig();
        rig.mem.storeInt(DATA - CpuRig.RAM, 0xffff_fff0);
        // amominu.w a0, a2, (a1)
        rig.x(11, DATA).x(12, 5).exec(0xc0c5a52f);
        assertThat(rig.x(10)).isEqualTo(0xffff_ffff_ffff_fff0L);
        assertThat(rig.mem.loadInt(DATA - CpuRig.RAM)).isEqualTo(5);
    }

    @Test
    void misalignedAmoTraps() {
        CpuRig rig = new CpuRig();
        rig.h.mtvec = CpuRig.RAM + 0x800;
        rig.x(11, DATA + 4).exec(0x00c5b52f);
        assertThat(rig.h.mcause).isEqualTo(Causes.STORE_MISALIGNED);
    }

    @Test
    void scSucceedsAfterLrAndFailsWithoutReservation() {
        CpuRig rig = new CpuRig();
        rig.mem.storeLong(DATA - CpuRig.RAM, 7);
        rig.x(11, DATA).x(12, 9);
        rig.exec(0x1005b52f); // lr.d a0, (a1)
        assertThat(rig.x(10)).isEqualTo(7);
        rig.exec(0x18c5b6af); // sc.d a3, a2, (a1)
        assertThat(rig.x(13)).isZero();
        assertThat(rig.mem.loadLong(DATA - CpuRig.RAM)).isEqualTo(9);
        rig.exec(0x18c5b6af); // second sc without lr fails
        assertThat(rig.x(13)).isEqualTo(1);
    }

    @Test
    void jalrClearsLowBitAndLinks() {
        CpuRig rig = new CpuRig();
        rig.x(11, CpuRig.RAM + 0x101).exec(CpuRig.i(2, 11, 0, 1, 0x67));
        assertThat(rig.h.pc).isEqualTo(CpuRig.RAM + 0x102);
        assertThat(rig.x(1)).isEqualTo(CpuRig.RAM + 4);
    }

    @Test
    void compressedJalrLinksPcPlus2() {
        CpuRig rig = new CpuRig();
        rig.x(10, CpuRig.RAM + 0x200).exec(0x9502); // c.jalr a0
        assertThat(rig.h.pc).isEqualTo(CpuRig.RAM + 0x200);
        assertThat(rig.x(1)).isEqualTo(CpuRig.RAM + 2);
    }

    @Test
    void illegalInstructionTrapsWithEncodingInMtval() {
        CpuRig rig = new CpuRig();
        rig.h.mtvec = CpuRig.RAM + 0x800;
        rig.exec(0xffffffff);
        assertThat(rig.h.mcause).isEqualTo(Causes.ILLEGAL_INSN);
        assertThat(rig.h.mtval).isEqualTo(0xffffffffL);
        rig.h.pc = CpuRig.RAM;
        rig.exec(0x0000); // the all-zero compressed word is illegal
        assertThat(rig.h.mcause).isEqualTo(Causes.ILLEGAL_INSN);
    }

    @Test
    void fetchFromUnmappedAddressIsAnAccessFault() {
        CpuRig rig = new CpuRig();
        rig.h.mtvec = CpuRig.RAM + 0x800;
        rig.x(11, 0x1000L).exec(CpuRig.i(0, 11, 0, 0, 0x67)); // jalr x0, 0(a1)
        rig.engine.execute(rig.h, 1);
        assertThat(rig.h.mcause).isEqualTo(Causes.INSN_ACCESS);
        assertThat(rig.h.mtval).isEqualTo(0x1000L);
    }
}
