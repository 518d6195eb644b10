// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware.fdt;

import dev.domus.xen.devices.irq.Clint;
import dev.domus.xen.devices.irq.HartInterrupts;
import dev.domus.xen.devices.irq.MachineClock;
import dev.domus.xen.devices.irq.Plic;
import dev.domus.xen.devices.power.PvPanicDevice;
import dev.domus.xen.devices.power.SifiveTestDevice;
import dev.domus.xen.devices.rtc.GoldfishRtcDevice;
import dev.domus.xen.devices.uart.Uart16550Device;

/**
 * The device tree of the QEMU-virt-compatible machine, in the shape Linux 6.1 expects from QEMU: root
 * ({@code riscv-virtio}), {@code /chosen}, {@code /aliases}, {@code /memory}, {@code /cpus} with one cpu and
 * cpu-intc per hart, {@code /soc} (CLINT, PLIC, UARTs, RTC, test device, pvpanic, virtio-mmio slots) and the
 * syscon {@code /poweroff} and {@code /reboot} nodes on top of the test device. Addresses and IRQs come from the
 * device classes' constants so the tree and the bus map cannot drift apart.
 */
public final class VirtDeviceTree {
    /** Root compatible string. */
    public static final String COMPATIBLE = "riscv-virtio";
    /** Root model (QEMU's, so tools that look at it feel at home). */
    public static final String MODEL = "riscv-virtio,qemu";
    /** ISA string of every hart; Linux 6.1 parses the multi-letter extensions after '_'. */
    public static final String ISA = "rv64imafdc_zicsr_zifencei_sstc";
    /** MMU advertised to the kernel. */
    public static final String MMU_TYPE = "riscv,sv39";
    /** Path of the console UART, used for stdout-path. */
    public static final String CONSOLE_PATH = "/soc/serial@" + Long.toHexString(Uart16550Device.CONSOLE_BASE);

    private VirtDeviceTree() {
    }

    /** The blob for {@code layout}, without an rng-seed. */
    public static byte[] build(VirtLayout layout) {
        return build(layout, new byte[0]);
    }

    /** The blob for {@code layout}; a non-empty {@code rngSeed} is passed as /chosen/rng-seed. */
    public static byte[] build(VirtLayout layout, byte[] rngSeed) {
        FdtWriter w = new FdtWriter();
        int n = layout.harts();
        int[] intc = new int[n];
        for (int h = 0; h < n; h++) {
            intc[h] = w.allocatePhandle();
        }
        int plic = w.allocatePhandle();
        int test = w.allocatePhandle();

        w.beginNode("")
                .propertyU32("#address-cells", 2)
                .propertyU32("#size-cells", 2)
                .property("compatible", COMPATIBLE)
                .property("model", MODEL);

        chosen(w, layout, rngSeed);
        aliases(w, layout);

        w.beginNode("memory@" + Long.toHexString(layout.ramBase()))
                .property("device_type", "memory")
                .propertyU64s("reg", layout.ramBase(), layout.ramSize())
                .endNode();

        cpus(w, intc);
        soc(w, layout, intc, plic, test);

        w.beginNode("poweroff")
                .property("compatible", "syscon-poweroff")
                .propertyU32("regmap", test)
                .propertyU32("offset", 0)
                .propertyU32("value", SifiveTestDevice.PASS)
                .endNode();
        w.beginNode("reboot")
                .property("compatible", "syscon-reboot")
                .propertyU32("regmap", test)
                .propertyU32("offset", 0)
                .propertyU32("value", SifiveTestDevice.RESET)
                .endNode();
        w.endNode();
        return w.finish();
    }

    private static void chosen(FdtWriter w, VirtLayout layout, byte[] rngSeed) {
        w.beginNode("chosen");
        if (!layout.bootargs().isEmpty()) {
            w.property("bootargs", layout.bootargs());
        }
        w.property("stdout-path", CONSOLE_PATH);
        if (layout.hasInitrd()) {
            w.propertyU64("linux,initrd-start", layout.initrdStart());
            w.propertyU64("linux,initrd-end", layout.initrdEnd());
        }
        if (rngSeed.length > 0) {
            w.property("rng-seed", rngSeed.clone());
        }
        w.endNode();
    }

    private static void aliases(FdtWriter w, VirtLayout layout) {
        // Fixed ttyS numbering: the console is ttyS0, the control channel ttyS1.
        w.beginNode("aliases").property("serial0", CONSOLE_PATH);
        if (layout.controlUart()) {
            w.property("serial1", "/soc/serial@" + Long.toHexString(Uart16550Device.CONTROL_BASE));
        }
        w.endNode();
    }

    private static void cpus(FdtWriter w, int[] intc) {
        w.beginNode("cpus")
                .propertyU32("#address-cells", 1)
                .propertyU32("#size-cells", 0)
                .propertyU32("timebase-frequency", (int) MachineClock.FREQUENCY_HZ);
        for (int h = 0; h < intc.length; h++) {
            w.beginNode("cpu@" + Integer.toHexString(h))
                    .property("device_type", "cpu")
                    .propertyU32("reg", h)
                    .property("status", "okay")
                    .property("compatible", "riscv")
                    .property("riscv,isa", ISA)
                    .property("mmu-type", MMU_TYPE)
                    .beginNode("interrupt-controller")
                    .propertyU32("#interrupt-cells", 1)
                    .propertyU32("#address-cells", 0)
                    .propertyEmpty("interrupt-controller")
                    .property("compatible", "riscv,cpu-intc")
                    .phandle(intc[h])
                    .endNode()
                    .endNode();
        }
        w.endNode();
    }

    private static void soc(FdtWriter w, VirtLayout layout, int[] intc, int plic, int test) {
        w.beginNode("soc")
                .propertyU32("#address-cells", 2)
                .propertyU32("#size-cells", 2)
                .property("compatible", "simple-bus")
                .propertyEmpty("ranges");

        w.beginNode(unit("test", SifiveTestDevice.BASE))
                .propertyStrings("compatible", "sifive,test1", "sifive,test0", "syscon")
                .propertyU64s("reg", SifiveTestDevice.BASE, SifiveTestDevice.SIZE)
                .phandle(test)
                .endNode();

        w.beginNode(unit("rtc", GoldfishRtcDevice.BASE))
                .property("compatible", "google,goldfish-rtc")
                .propertyU64s("reg", GoldfishRtcDevice.BASE, GoldfishRtcDevice.SIZE)
                .propertyU32("interrupt-parent", plic)
                .propertyU32("interrupts", GoldfishRtcDevice.IRQ)
                .endNode();

        w.beginNode(unit("pvpanic", PvPanicDevice.BASE))
                .property("compatible", "qemu,pvpanic-mmio")
                .propertyU64s("reg", PvPanicDevice.BASE, PvPanicDevice.SIZE)
                .endNode();

        int[] clintIrqs = new int[4 * intc.length];
        int[] plicIrqs = new int[4 * intc.length];
        for (int h = 0; h < intc.length; h++) {
            clintIrqs[4 * h] = intc[h];
            clintIrqs[4 * h + 1] = HartInterrupts.MSIP;
            clintIrqs[4 * h + 2] = intc[h];
            clintIrqs[4 * h + 3] = HartInterrupts.MTIP;
            // Context 2h is M-mode, 2h+1 S-mode: the order the PLIC numbers its contexts.
            plicIrqs[4 * h] = intc[h];
            plicIrqs[4 * h + 1] = HartInterrupts.MEIP;
            plicIrqs[4 * h + 2] = intc[h];
            plicIrqs[4 * h + 3] = HartInterrupts.SEIP;
        }
        w.beginNode(unit("clint", Clint.BASE))
                .propertyStrings("compatible", "sifive,clint0", "riscv,clint0")
                .propertyU64s("reg", Clint.BASE, Clint.SIZE)
                .propertyCells("interrupts-extended", clintIrqs)
                .endNode();

        w.beginNode(unit("plic", Plic.BASE))
                .propertyStrings("compatible", "sifive,plic-1.0.0", "riscv,plic0")
                .propertyU64s("reg", Plic.BASE, Plic.SIZE)
                .propertyCells("interrupts-extended", plicIrqs)
                .propertyU32("riscv,ndev", Plic.SOURCES)
                .propertyU32("#interrupt-cells", 1)
                .propertyU32("#address-cells", 0)
                .propertyEmpty("interrupt-controller")
                .phandle(plic)
                .endNode();

        uart(w, Uart16550Device.CONSOLE_BASE, Uart16550Device.CONSOLE_IRQ, plic);
        if (layout.controlUart()) {
            uart(w, Uart16550Device.CONTROL_BASE, Uart16550Device.CONTROL_IRQ, plic);
        }

        for (VirtioSlot slot : layout.virtioSlots()) {
            w.beginNode(unit("virtio_mmio", slot.base()))
                    .property("compatible", "virtio,mmio")
                    .propertyU64s("reg", slot.base(), VirtioSlot.SIZE)
                    .propertyU32("interrupt-parent", plic)
                    .propertyU32("interrupts", slot.irq())
                    .endNode();
        }
        w.endNode();
    }

    private static void uart(FdtWriter w, long base, int irq, int plic) {
        w.beginNode(unit("serial", base))
                .property("compatible", "ns16550a")
                .propertyU64s("reg", base, Uart16550Device.SIZE)
                .propertyU32("clock-frequency", Uart16550Device.CLOCK_HZ)
                .propertyU32("interrupt-parent", plic)
                .propertyU32("interrupts", irq)
                .endNode();
    }

    private static String unit(String name, long address) {
        return name + "@" + Long.toHexString(address);
    }
}
