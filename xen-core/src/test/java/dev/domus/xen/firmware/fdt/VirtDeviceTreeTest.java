// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware.fdt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class VirtDeviceTreeTest {
    private static final long RAM = 0x8000_0000L;
    private static final long MIB = 1024 * 1024;

    private static VirtLayout layout(int harts, boolean control) {
        return new VirtLayout(harts, RAM, 512 * MIB, "console=ttyS0 earlycon", RAM + 256 * MIB,
                RAM + 260 * MIB, List.of(VirtioSlot.standard(0), VirtioSlot.standard(1)), control);
    }

    private static FdtTestReader.Node tree(VirtLayout layout) {
        return new FdtTestReader(VirtDeviceTree.build(layout)).root;
    }

    @Test
    void rootChosenAndMemory() {
        FdtTestReader.Node root = tree(layout(1, false));
        assertThat(root.u32("#address-cells")).isEqualTo(2);
        assertThat(root.u32("#size-cells")).isEqualTo(2);
        assertThat(root.string("compatible")).isEqualTo("riscv-virtio");
        assertThat(root.string("model")).isEqualTo("riscv-virtio,qemu");
        assertThat(root.children).extracting(n -> n.name).containsExactly("chosen", "aliases", "memory@80000000",
                "cpus", "soc", "poweroff", "reboot");

        FdtTestReader.Node chosen = root.path("/chosen");
        assertThat(chosen.string("bootargs")).isEqualTo("console=ttyS0 earlycon");
        assertThat(chosen.string("stdout-path")).isEqualTo("/soc/serial@10000000");
        assertThat(chosen.u64("linux,initrd-start")).isEqualTo(RAM + 256 * MIB);
        assertThat(chosen.u64("linux,initrd-end")).isEqualTo(RAM + 260 * MIB);
        assertThat(chosen.has("rng-seed")).isFalse();

        FdtTestReader.Node mem = root.path("/memory@80000000");
        assertThat(mem.string("device_type")).isEqualTo("memory");
        assertThat(mem.cells("reg")).containsExactly(0, (int) RAM, 0, (int) (512 * MIB));
    }

    @Test
    void withoutInitrdOrBootargsThoseAreLeftOut() {
        VirtLayout l = new VirtLayout(1, RAM, 64 * MIB, "", 0, 0, List.of(), false);
        FdtTestReader.Node chosen = new FdtTestReader(VirtDeviceTree.build(l, new byte[] {1, 2, 3, 4})).root
                .path("/chosen");
        assertThat(chosen.has("linux,initrd-start")).isFalse();
        assertThat(chosen.has("bootargs")).isFalse();
        assertThat(chosen.raw("rng-seed")).containsExactly(1, 2, 3, 4);
    }

    @Test
    void cpusWithInterruptControllers() {
        FdtTestReader.Node cpus = tree(layout(3, false)).path("/cpus");
        assertThat(cpus.u32("#address-cells")).isEqualTo(1);
        assertThat(cpus.u32("#size-cells")).isZero();
        assertThat(cpus.u32("timebase-frequency")).isEqualTo(10_000_000);
        assertThat(cpus.children).extracting(n -> n.name).containsExactly("cpu@0", "cpu@1", "cpu@2");
        for (int h = 0; h < 3; h++) {
            FdtTestReader.Node cpu = cpus.child("cpu@" + h);
            assertThat(cpu.string("device_type")).isEqualTo("cpu");
            assertThat(cpu.u32("reg")).isEqualTo(h);
            assertThat(cpu.string("status")).isEqualTo("okay");
            assertThat(cpu.string("compatible")).isEqualTo("riscv");
            assertThat(cpu.string("riscv,isa")).isEqualTo("rv64imafdc_zicsr_zifencei_sstc");
            assertThat(cpu.string("mmu-type")).isEqualTo("riscv,sv39");
            FdtTestReader.Node intc = cpu.child("interrupt-controller");
            assertThat(intc.string("compatible")).isEqualTo("riscv,cpu-intc");
            assertThat(intc.u32("#interrupt-cells")).isEqualTo(1);
            assertThat(intc.has("interrupt-controller")).isTrue();
            assertThat(intc.has("phandle")).isTrue();
        }
    }

    @Test
    void clintAndPlicWireEveryHart() {
        FdtTestReader.Node root = tree(layout(2, false));
        int intc0 = root.path("/cpus/cpu@0/interrupt-controller").u32("phandle");
        int intc1 = root.path("/cpus/cpu@1/interrupt-controller").u32("phandle");
        assertThat(intc0).isNotEqualTo(intc1);

        FdtTestReader.Node clint = root.path("/soc/clint@2000000");
        assertThat(clint.strings("compatible")).containsExactly("sifive,clint0", "riscv,clint0");
        assertThat(clint.cells("reg")).containsExactly(0, 0x0200_0000, 0, 0x1_0000);
        assertThat(clint.cells("interrupts-extended")).containsExactly(intc0, 3, intc0, 7, intc1, 3, intc1, 7);

        FdtTestReader.Node plic = root.path("/soc/plic@c000000");
        assertThat(plic.strings("compatible")).containsExactly("sifive,plic-1.0.0", "riscv,plic0");
        assertThat(plic.cells("reg")).containsExactly(0, 0x0c00_0000, 0, 0x0400_0000);
        assertThat(plic.cells("interrupts-extended")).containsExactly(intc0, 11, intc0, 9, intc1, 11, intc1, 9);
        assertThat(plic.u32("riscv,ndev")).isEqualTo(63);
        assertThat(plic.u32("#interrupt-cells")).isEqualTo(1);
        assertThat(plic.has("interrupt-controller")).isTrue();
    }

    @Test
    void platformDevicesPointAtThePlic() {
        FdtTestReader.Node root = tree(layout(1, true));
        int plic = root.path("/soc/plic@c000000").u32("phandle");
        FdtTestReader.Node soc = root.path("/soc");
        assertThat(soc.string("compatible")).isEqualTo("simple-bus");
        assertThat(soc.raw("ranges")).isEmpty();

        FdtTestReader.Node uart = soc.child("serial@10000000");
        assertThat(uart.string("compatible")).isEqualTo("ns16550a");
        assertThat(uart.cells("reg")).containsExactly(0, 0x1000_0000, 0, 0x100);
        assertThat(uart.u32("clock-frequency")).isEqualTo(3_686_400);
        assertThat(uart.u32("interrupts")).isEqualTo(10);
        assertThat(uart.u32("interrupt-parent")).isEqualTo(plic);

        FdtTestReader.Node control = soc.child("serial@10000100");
        assertThat(control.u32("interrupts")).isEqualTo(12);
        assertThat(root.path("/aliases").string("serial1")).isEqualTo("/soc/serial@10000100");

        FdtTestReader.Node rtc = soc.child("rtc@101000");
        assertThat(rtc.string("compatible")).isEqualTo("google,goldfish-rtc");
        assertThat(rtc.u32("interrupts")).isEqualTo(11);
        assertThat(rtc.u32("interrupt-parent")).isEqualTo(plic);

        assertThat(soc.child("pvpanic@102000").string("compatible")).isEqualTo("qemu,pvpanic-mmio");

        FdtTestReader.Node virtio1 = soc.child("virtio_mmio@10002000");
        assertThat(virtio1.string("compatible")).isEqualTo("virtio,mmio");
        assertThat(virtio1.cells("reg")).containsExactly(0, 0x1000_2000, 0, 0x1000);
        assertThat(virtio1.u32("interrupts")).isEqualTo(2);
        assertThat(virtio1.u32("interrupt-parent")).isEqualTo(plic);
    }

    @Test
    void controlUartIsOptional() {
        FdtTestReader.Node root = tree(layout(1, false));
        assertThat(root.path("/soc").children).extracting(n -> n.name).doesNotContain("serial@10000100");
        assertThat(root.path("/aliases").has("serial1")).isFalse();
    }

    @Test
    void poweroffAndRebootUseTheTestDevice() {
        FdtTestReader.Node root = tree(layout(1, false));
        FdtTestReader.Node test = root.path("/soc/test@100000");
        assertThat(test.strings("compatible")).containsExactly("sifive,test1", "sifive,test0", "syscon");
        int ph = test.u32("phandle");
        FdtTestReader.Node off = root.path("/poweroff");
        assertThat(off.string("compatible")).isEqualTo("syscon-poweroff");
        assertThat(off.u32("regmap")).isEqualTo(ph);
        assertThat(off.u32("offset")).isZero();
        assertThat(off.u32("value")).isEqualTo(0x5555);
        FdtTestReader.Node reboot = root.path("/reboot");
        assertThat(reboot.string("compatible")).isEqualTo("syscon-reboot");
        assertThat(reboot.u32("regmap")).isEqualTo(ph);
        assertThat(reboot.u32("value")).isEqualTo(0x7777);
    }

    @Test
    void layoutIsValidated() {
        assertThatThrownBy(() -> new VirtLayout(0, RAM, MIB, "", 0, 0, List.of(), false))
                .hasMessageContaining("harts must be 1..512, got 0");
        assertThatThrownBy(() -> new VirtLayout(1, RAM, 0, "", 0, 0, List.of(), false))
                .hasMessageContaining("RAM");
        assertThatThrownBy(() -> new VirtLayout(1, RAM, MIB, "", RAM + 2 * MIB, RAM + 3 * MIB, List.of(), false))
                .hasMessageContaining("inside RAM");
        assertThatThrownBy(() -> new VirtLayout(1, RAM, MIB, "", 0, 0,
                List.of(new VirtioSlot(0x1000_1000L, 10)), false)).hasMessageContaining("irq 10");
        assertThatThrownBy(() -> new VirtLayout(1, RAM, MIB, "", 0, 0,
                List.of(VirtioSlot.standard(0), new VirtioSlot(0x1000_1000L, 9)), false))
                .hasMessageContaining("used twice");
        assertThatThrownBy(() -> VirtioSlot.standard(8)).hasMessageContaining("0..7");
        assertThatThrownBy(() -> new VirtioSlot(0x1000_1004L, 1)).hasMessageContaining("aligned");
    }

    @Test
    void dtcAcceptsTheTreeWithoutWarnings() throws Exception {
        FdtTestReader.Dtc dtc = FdtTestReader.dtcDecompile(VirtDeviceTree.build(layout(2, true)));
        Assumptions.assumeTrue(dtc != null, "dtc (device-tree-compiler) is not installed");
        assertThat(dtc.warnings()).isEmpty();
        assertThat(dtc.dts()).contains("compatible = \"riscv-virtio\";")
                .contains("chosen {")
                .contains("memory@80000000 {")
                .contains("cpu@1 {")
                .contains("riscv,isa = \"rv64imafdc_zicsr_zifencei_sstc\";")
                .contains("clint@2000000 {")
                .contains("plic@c000000 {")
                .contains("serial@10000000 {")
                .contains("serial@10000100 {")
                .contains("rtc@101000 {")
                .contains("test@100000 {")
                .contains("pvpanic@102000 {")
                .contains("virtio_mmio@10001000 {")
                .contains("poweroff {")
                .contains("reboot {");
    }
}
