// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.domus.xen.devices.irq.HartInterrupts;
import org.junit.jupiter.api.Test;

/** Traps, delegation, xRET, interrupts and CSR access rules. */
class PrivilegedTest {
    private static final int ECALL = 0x00000073;
    private static final int MRET = 0x30200073;
    private static final int SRET = 0x10200073;
    private static final int WFI = 0x10500073;

    private static int csrrw(int csr, int rd, int rs1) {
        return (csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73;
    }

    private static int csrrs(int csr, int rd, int rs1) {
        return (csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73;
    }

    @Test
    void ecallFromUserIsDelegatedToSupervisor() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.medeleg = 1L << Causes.ECALL_U;
        h.stvec = CpuRig.RAM + 0x400;
        h.priv = Hart.PRIV_U;
        h.mstatus |= Hart.MSTATUS_SIE;
        h.mmuModeChanged();
        rig.exec(ECALL);
        assertThat(h.priv).isEqualTo(Hart.PRIV_S);
        assertThat(h.scause).isEqualTo(Causes.ECALL_U);
        assertThat(h.sepc).isEqualTo(CpuRig.RAM);
        assertThat(h.pc).isEqualTo(CpuRig.RAM + 0x400);
        assertThat(h.mstatus & Hart.MSTATUS_SPP).isZero();
        assertThat(h.mstatus & Hart.MSTATUS_SPIE).isNotZero();
        assertThat(h.mstatus & Hart.MSTATUS_SIE).isZero();
    }

    @Test
    void ecallFromSupervisorWithoutDelegationGoesToMachine() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.mtvec = CpuRig.RAM + 0x800;
        h.priv = Hart.PRIV_S;
        h.mmuModeChanged();
        rig.exec(ECALL);
        assertThat(h.priv).isEqualTo(Hart.PRIV_M);
        assertThat(h.mcause).isEqualTo(Causes.ECALL_S);
        assertThat((h.mstatus & Hart.MSTATUS_MPP) >>> Hart.MSTATUS_MPP_SHIFT).isEqualTo(Hart.PRIV_S);
    }

    @Test
    void mretReturnsToMppAndRestoresMie() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.mepc = CpuRig.RAM + 0x100;
        h.mstatus = (h.mstatus & ~Hart.MSTATUS_MPP) | (1L << Hart.MSTATUS_MPP_SHIFT) | Hart.MSTATUS_MPIE
                | Hart.MSTATUS_MPRV;
        rig.exec(MRET);
        assertThat(h.priv).isEqualTo(Hart.PRIV_S);
        assertThat(h.pc).isEqualTo(CpuRig.RAM + 0x100);
        assertThat(h.mstatus & Hart.MSTATUS_MIE).isNotZero();
        assertThat(h.mstatus & Hart.MSTATUS_MPP).isZero();
        assertThat(h.mstatus & Hart.MSTATUS_MPRV).as("MPRV cleared when returning below M").isZero();
    }

    @Test
    void sretIsIllegalInUserModeAndWithTsr() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.mtvec = CpuRig.RAM + 0x800;
        h.priv = Hart.PRIV_S;
        h.mstatus |= Hart.MSTATUS_TSR;
        h.mmuModeChanged();
        rig.exec(SRET);
        assertThat(h.mcause).isEqualTo(Causes.ILLEGAL_INSN);
    }

    @Test
    void machineCsrFromSupervisorIsIllegal() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.mtvec = CpuRig.RAM + 0x800;
        h.priv = Hart.PRIV_S;
        h.mmuModeChanged();
        rig.exec(csrrs(0x300, 10, 0)); // csrr a0, mstatus
        assertThat(h.priv).isEqualTo(Hart.PRIV_M);
        assertThat(h.mcause).isEqualTo(Causes.ILLEGAL_INSN);
    }

    @Test
    void writingReadOnlyCsrIsIllegalButReadingIsFine() {
        CpuRig rig = new CpuRig();
        rig.h.mtvec = CpuRig.RAM + 0x800;
        rig.exec(csrrs(0xF14, 10, 0)); // csrr a0, mhartid
        assertThat(rig.h.mcause).isZero();
        assertThat(rig.x(10)).isZero();
        rig.exec(csrrw(0xF14, 0, 10));
        assertThat(rig.h.mcause).isEqualTo(Causes.ILLEGAL_INSN);
    }

    @Test
    void sstatusIsARestrictedViewOfMstatus() {
        CpuRig rig = new CpuRig();
        rig.x(10, -1L).exec(csrrw(0x100, 0, 10)); // write all ones to sstatus
        long m = rig.h.readMstatus();
        assertThat(m & Hart.MSTATUS_MIE).as("MIE not writable through sstatus").isZero();
        assertThat(m & Hart.MSTATUS_SUM).isNotZero();
        assertThat(m & Hart.MSTATUS_SD).as("SD follows FS=dirty").isNotZero();
        assertThat((m >>> 32) & 3).as("UXL = 64").isEqualTo(2);
    }

    @Test
    void clearingInterruptEnablesKeepsTheBatchGoingButSettingThemEndsIt() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.priv = Hart.PRIV_S;
        h.mstatus |= Hart.MSTATUS_SIE;
        h.mmuModeChanged();
        int addi = 0x00150513; // addi a0, a0, 1
        // csrrc x0, sstatus, a1 (spin_lock_irqsave) then two addi: one batch of three instructions.
        int clear = 0x1005b073;
        long off = h.pc - CpuRig.RAM;
        rig.mem.storeInt(off, clear);
        rig.mem.storeInt(off + 4, addi);
        rig.mem.storeInt(off + 8, addi);
        rig.x(10, 0).x(11, Hart.MSTATUS_SIE);
        h.fetchVpage = -1;
        assertThat(new Interpreter().execute(h, 3)).isEqualTo(3);
        assertThat(h.mstatus & Hart.MSTATUS_SIE).isZero();
        assertThat(rig.x(10)).isEqualTo(2);
        // csrrs x0, sstatus, a1 (irqrestore) may make a pending interrupt deliverable: the batch ends after it.
        int set = 0x1005a073;
        rig.mem.storeInt(off + 12, set);
        rig.mem.storeInt(off + 16, addi);
        assertThat(new Interpreter().execute(h, 2)).isEqualTo(1);
        assertThat(h.mstatus & Hart.MSTATUS_SIE).isNotZero();
        assertThat(rig.x(10)).isEqualTo(2);
    }

    @Test
    void satpIgnoresUnsupportedModes() {
        CpuRig rig = new CpuRig();
        rig.x(10, (9L << 60) | 5).exec(csrrw(0x180, 0, 10)); // Sv48: unsupported -> write ignored
        assertThat(rig.h.satp).isZero();
        rig.x(10, (8L << 60) | (0xffffL << 44) | 5).exec(csrrw(0x180, 0, 10));
        assertThat(rig.h.satp).as("ASID bits read as zero").isEqualTo((8L << 60) | 5);
    }

    @Test
    void timerInterruptIsTakenWhenEnabledAndDelegated() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.mideleg = 1L << HartInterrupts.STIP;
        h.mie = 1L << HartInterrupts.STIP;
        h.stvec = (CpuRig.RAM + 0x400) | 1; // vectored
        h.priv = Hart.PRIV_S;
        h.mstatus |= Hart.MSTATUS_SIE;
        h.setPending(HartInterrupts.STIP, true);
        assertThat(h.checkInterrupts()).isTrue();
        assertThat(h.scause).isEqualTo(Causes.INTERRUPT | HartInterrupts.STIP);
        assertThat(h.pc).isEqualTo(CpuRig.RAM + 0x400 + 4 * HartInterrupts.STIP);
    }

    @Test
    void supervisorInterruptIsNotTakenInMachineMode() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.mideleg = 1L << HartInterrupts.SSIP;
        h.mie = 1L << HartInterrupts.SSIP;
        h.mstatus |= Hart.MSTATUS_SIE | Hart.MSTATUS_MIE;
        h.setPending(HartInterrupts.SSIP, true);
        assertThat(h.checkInterrupts()).isFalse();
    }

    @Test
    void machineExternalHasPriorityOverTimer() {
        CpuRig rig = new CpuRig();
        Hart h = rig.h;
        h.mtvec = CpuRig.RAM + 0x800;
        h.mie = (1L << HartInterrupts.MTIP) | (1L << HartInterrupts.MEIP);
        h.mstatus |= Hart.MSTATUS_MIE;
        h.setPending(HartInterrupts.MTIP, true);
        h.setPending(HartInterrupts.MEIP, true);
        assertThat(h.checkInterrupts()).isTrue();
        assertThat(h.mcause).isEqualTo(Causes.INTERRUPT | HartInterrupts.MEIP);
    }

    @Test
    void wfiParksAndIsIllegalInUserMode() {
        CpuRig rig = new CpuRig();
        rig.exec(WFI);
        assertThat(rig.h.waitingForInterrupt()).isTrue();
        assertThat(rig.h.pc).isEqualTo(CpuRig.RAM + 4);
        CpuRig user = new CpuRig();
        user.h.mtvec = CpuRig.RAM + 0x800;
        user.h.priv = Hart.PRIV_U;
        user.h.mmuModeChanged();
        user.exec(WFI);
        assertThat(user.h.mcause).isEqualTo(Causes.ILLEGAL_INSN);
    }

    @Test
    void fpInstructionsAreIllegalWhenFsIsOff() {
        CpuRig rig = new CpuRig();
        rig.h.mtvec = CpuRig.RAM + 0x800;
        rig.h.mstatus &= ~Hart.MSTATUS_FS;
        rig.exec(0x00c5f553); // fadd.s fa0, fa1, fa2
        assertThat(rig.h.mcause).isEqualTo(Causes.ILLEGAL_INSN);
    }

    @Test
    void singleOperandsMustBeNanBoxed() {
        CpuRig rig = new CpuRig();
        rig.h.f[11] = Float.floatToRawIntBits(1.5f) & 0xffffffffL; // not boxed -> canonical NaN
        rig.h.f[12] = 0xffffffff00000000L | Float.floatToRawIntBits(2.0f);
        rig.exec(0x20c58553); // fsgnj.s fa0, fa1, fa2
        assertThat(rig.h.f[10]).isEqualTo(0xffffffff7fc00000L);
    }
}
