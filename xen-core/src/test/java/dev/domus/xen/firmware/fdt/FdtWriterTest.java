// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware.fdt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class FdtWriterTest {
    private static byte[] sample() {
        FdtWriter w = new FdtWriter();
        int intc = w.allocatePhandle();
        w.beginNode("")
                .propertyU32("#address-cells", 2)
                .propertyU32("#size-cells", 2)
                .property("compatible", "test,board")
                .beginNode("chosen")
                .property("bootargs", "console=ttyS0 quiet")
                .propertyU64("linux,initrd-start", 0x8800_0000L)
                .endNode()
                .beginNode("intc")
                .propertyEmpty("interrupt-controller")
                .propertyU32("#interrupt-cells", 1)
                .phandle(intc)
                .endNode()
                .beginNode("dev@1000")
                .propertyStrings("compatible", "vendor,dev2", "vendor,dev")
                .propertyU64s("reg", 0x1000, 0x100)
                .propertyCells("interrupts-extended", intc, 3, intc, 7)
                .property("blob", new byte[] {1, 2, 3})
                .endNode()
                .endNode();
        return w.finish();
    }

    @Test
    void headerAndBlocksAreWellFormed() {
        byte[] blob = sample();
        FdtTestReader r = new FdtTestReader(blob);
        assertThat(r.header.version()).isEqualTo(17);
        assertThat(r.header.lastCompVersion()).isEqualTo(16);
        assertThat(r.header.offRsv()).isEqualTo(40);
        assertThat(r.header.totalSize() % 8).isZero();
        assertThat(r.reservations).isEmpty();
        assertThat(r.header.bootCpu()).isZero();
    }

    @Test
    void treeReadsBackWithEveryPropertyKind() {
        FdtTestReader.Node root = new FdtTestReader(sample()).root;
        assertThat(root.name).isEmpty();
        assertThat(root.u32("#address-cells")).isEqualTo(2);
        assertThat(root.string("compatible")).isEqualTo("test,board");
        assertThat(root.children).extracting(n -> n.name).containsExactly("chosen", "intc", "dev@1000");
        assertThat(root.path("/chosen").string("bootargs")).isEqualTo("console=ttyS0 quiet");
        assertThat(root.path("/chosen").u64("linux,initrd-start")).isEqualTo(0x8800_0000L);
        FdtTestReader.Node intc = root.path("/intc");
        assertThat(intc.raw("interrupt-controller")).isEmpty();
        int ph = intc.u32("phandle");
        FdtTestReader.Node dev = root.path("/dev@1000");
        assertThat(dev.strings("compatible")).containsExactly("vendor,dev2", "vendor,dev");
        assertThat(dev.cells("reg")).containsExactly(0, 0x1000, 0, 0x100);
        assertThat(dev.cells("interrupts-extended")).containsExactly(ph, 3, ph, 7);
        assertThat(dev.raw("blob")).containsExactly(1, 2, 3);
    }

    @Test
    void propertyNamesAreStoredOnce() {
        FdtWriter w = new FdtWriter().beginNode("");
        for (int i = 0; i < 5; i++) {
            w.beginNode("n" + i).property("compatible", "x").propertyU32("reg", i).endNode();
        }
        byte[] blob = w.endNode().finish();
        FdtTestReader r = new FdtTestReader(blob);
        String strings = new String(blob, r.header.offStrings(), r.header.sizeStrings(), StandardCharsets.UTF_8);
        assertThat(strings).isEqualTo("compatible\0reg\0");
        assertThat(r.root.children).hasSize(5);
        assertThat(r.root.path("/n3").u32("reg")).isEqualTo(3);
    }

    @Test
    void reservationsAndBootCpuGoToTheHeader() {
        byte[] blob = new FdtWriter().bootCpuId(2).reserve(0x8000_0000L, 0x20_0000).beginNode("").endNode().finish();
        FdtTestReader r = new FdtTestReader(blob);
        assertThat(r.header.bootCpu()).isEqualTo(2);
        assertThat(r.reservations).hasSize(1);
        assertThat(r.reservations.get(0)).containsExactly(0x8000_0000L, 0x20_0000L);
    }

    @Test
    void phandlesAreUnique() {
        FdtWriter w = new FdtWriter();
        int a = w.allocatePhandle();
        int b = w.allocatePhandle();
        assertThat(a).isNotEqualTo(b).isPositive();
        w.beginNode("").beginNode("a").phandle(a).endNode().beginNode("b");
        assertThatThrownBy(() -> w.phandle(a)).hasMessageContaining("already used");
        assertThatThrownBy(() -> w.phandle(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void misuseIsReportedAtOnce() {
        assertThatThrownBy(() -> new FdtWriter().propertyU32("x", 1)).hasMessageContaining("outside");
        assertThatThrownBy(() -> new FdtWriter().beginNode("soc")).hasMessageContaining("root");
        assertThatThrownBy(() -> new FdtWriter().endNode()).hasMessageContaining("without an open node");
        assertThatThrownBy(() -> new FdtWriter().finish()).hasMessageContaining("no root");
        assertThatThrownBy(() -> new FdtWriter().beginNode("").finish()).hasMessageContaining("still open");
        assertThatThrownBy(() -> new FdtWriter().beginNode("").propertyU32("a", 1).propertyU32("a", 2))
                .hasMessageContaining("duplicate property");
        assertThatThrownBy(() -> new FdtWriter().beginNode("").beginNode("x").endNode().beginNode("x"))
                .hasMessageContaining("duplicate node");
        assertThatThrownBy(() -> new FdtWriter().beginNode("").beginNode("x").endNode().propertyU32("a", 1))
                .hasMessageContaining("after a child");
        assertThatThrownBy(() -> new FdtWriter().beginNode("").beginNode("a/b"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FdtWriter().beginNode("").property("s", "a\0b"))
                .hasMessageContaining("NUL");
        assertThatThrownBy(() -> new FdtWriter().beginNode("").endNode().beginNode(""))
                .hasMessageContaining("already has a root");
        FdtWriter done = new FdtWriter().beginNode("").endNode();
        done.finish();
        assertThatThrownBy(done::finish).hasMessageContaining("already");
    }

    @Test
    void dtcDecompilesTheBlob() throws Exception {
        FdtTestReader.Dtc dtc = FdtTestReader.dtcDecompile(sample());
        Assumptions.assumeTrue(dtc != null, "dtc (device-tree-compiler) is not installed");
        assertThat(dtc.dts()).contains("/dts-v1/;")
                .contains("compatible = \"test,board\";")
                .contains("chosen {")
                .contains("bootargs = \"console=ttyS0 quiet\";")
                .contains("dev@1000 {")
                .containsAnyOf("compatible = \"vendor,dev2\", \"vendor,dev\";",
                        "compatible = \"vendor,dev2\\0vendor,dev\";")
                .contains("interrupt-controller;");
    }
}
