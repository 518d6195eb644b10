// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Uart16550DeviceTest {
    private static final int RBR = 0;
    private static final int THR = 0;
    private static final int IER = 1;
    private static final int IIR = 2;
    private static final int FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;

    private ByteArrayOutputStream out;
    private boolean irq;
    private int irqEdges;
    private Uart16550Device uart;

    @BeforeEach
    void setUp() {
        out = new ByteArrayOutputStream();
        uart = new Uart16550Device("uart0", level -> {
            if (level != irq) {
                irqEdges++;
            }
            irq = level;
        }, out::write);
    }

    private int rd(int reg) {
        return (int) uart.read(reg, 1);
    }

    private void wr(int reg, int v) {
        uart.write(reg, 1, v);
    }

    @Test
    void resetStateMatchesA16550() {
        assertThat(rd(IER)).isZero();
        assertThat(rd(IIR)).isEqualTo(0x01);
        assertThat(rd(LCR)).isZero();
        assertThat(rd(LSR)).isEqualTo(0x60);
        assertThat(rd(MSR)).isEqualTo(0xB0);
        assertThat(irq).isFalse();
    }

    @Test
    void transmitGoesToTheSinkAndThrStaysEmpty() {
        for (byte b : "hi\n".getBytes()) {
            wr(THR, b);
            assertThat(rd(LSR) & 0x60).isEqualTo(0x60);
        }
        assertThat(out.toString()).isEqualTo("hi\n");
        assertThat(irq).isFalse();
    }

    @Test
    void divisorLatchShadowsRbrAndIer() {
        wr(LCR, 0x83);
        wr(0, 0x02);
        wr(1, 0x01);
        assertThat(rd(0)).isEqualTo(0x02);
        assertThat(rd(1)).isEqualTo(0x01);
        assertThat(out.size()).isZero();
        wr(LCR, 0x03);
        assertThat(rd(IER)).isZero();
        assertThat(uart.state().divisor()).isEqualTo(0x0102);
    }

    @Test
    void scratchRegisterHoldsAByte() {
        wr(SCR, 0xa5);
        assertThat(rd(SCR)).isEqualTo(0xa5);
    }

    @Test
    void receivedBytesSetDataReadyAndInterrupt() {
        wr(FCR, 0x01 | 0x80); // FIFO on, trigger 8
        wr(IER, 0x01);
        assertThat(irq).isFalse();
        assertThat(uart.offer((byte) 'a')).isTrue();
        assertThat(irq).isTrue();
        assertThat(rd(LSR) & 0x01).isEqualTo(1);
        assertThat(rd(IIR)).isEqualTo(0xCC); // below trigger: character timeout
        assertThat(uart.receive("bcdefghij".getBytes(), 0, 9)).isEqualTo(9);
        assertThat(rd(IIR)).isEqualTo(0xC4); // at or above trigger: data available
        StringBuilder got = new StringBuilder();
        while ((rd(LSR) & 0x01) != 0) {
            got.append((char) rd(RBR));
        }
        assertThat(got).hasToString("abcdefghij");
        assertThat(irq).isFalse();
        assertThat(rd(IIR)).isEqualTo(0xC1);
    }

    @Test
    void inputQueueIsBoundedAndNeverBlocks() {
        byte[] big = new byte[Uart16550Device.INPUT_CAPACITY + 100];
        assertThat(uart.receive(big, 0, big.length)).isEqualTo(Uart16550Device.INPUT_CAPACITY);
        assertThat(uart.offer((byte) 1)).isFalse();
        assertThat(uart.inputSpace()).isZero();
        rd(RBR);
        assertThat(uart.inputSpace()).isEqualTo(1);
        assertThat(uart.offer((byte) 1)).isTrue();
        assertThat(rd(LSR) & 0x02).isZero(); // back-pressure, not overrun
    }

    @Test
    void thrEmptyInterruptIsArmedWhenEtbeiIsSetAndClearedByReadingIir() {
        // The sequence of Linux's serial8250_do_startup THRE test.
        wr(IER, 0x02);
        assertThat(irq).isTrue();
        int iir1 = rd(IIR);
        assertThat(iir1 & 0x0f).isEqualTo(0x02);
        assertThat(irq).isFalse();
        assertThat(rd(IIR) & 0x01).isEqualTo(1);
        wr(IER, 0);
        wr(IER, 0x02);
        assertThat(rd(IIR) & 0x0f).isEqualTo(0x02);
        wr(IER, 0);
        assertThat(irq).isFalse();
    }

    @Test
    void everyThrWriteReArmsTheThrEmptyInterrupt() {
        wr(IER, 0x02);
        rd(IIR);
        assertThat(irq).isFalse();
        wr(THR, 'x');
        assertThat(irq).isTrue();
        assertThat(rd(IIR) & 0x0f).isEqualTo(0x02);
        assertThat(irq).isFalse();
        wr(IER, 0x02); // no 0->1 transition: nothing new
        assertThat(irq).isFalse();
    }

    @Test
    void clearingEtbeiDropsAPendingThrInterrupt() {
        wr(IER, 0x02);
        assertThat(irq).isTrue();
        wr(IER, 0x00);
        assertThat(irq).isFalse();
        wr(IER, 0x01);
        assertThat(irq).isFalse();
    }

    @Test
    void interruptPrioritiesFollowTheDatasheet() {
        wr(FCR, 0x01);
        wr(MCR, 0x10); // loopback
        assertThat(rd(MSR)).isEqualTo(0x0b); // CTS, DSR, DCD dropped on entering loopback
        wr(IER, 0x0f);
        for (int i = 0; i < 17; i++) {
            wr(THR, 'a' + i); // 17th byte overruns the FIFO
        }
        wr(MCR, 0x10 | 0x02); // RTS -> CTS change: modem delta
        assertThat(rd(IIR) & 0x0f).isEqualTo(0x06); // line status first
        assertThat(rd(LSR) & 0x03).isEqualTo(0x03);
        assertThat(rd(LSR) & 0x02).isZero(); // OE cleared by reading LSR
        assertThat(rd(IIR) & 0x0f).isEqualTo(0x04); // then received data
        for (int i = 0; i < 16; i++) {
            assertThat(rd(RBR)).isEqualTo('a' + i);
        }
        assertThat(rd(IIR) & 0x0f).isEqualTo(0x02); // then THR empty
        assertThat(rd(IIR) & 0x0f).isEqualTo(0x00); // then modem status
        assertThat(rd(MSR)).isEqualTo(0x10 | 0x01); // CTS + DCTS
        assertThat(rd(IIR)).isEqualTo(0xC1);
        assertThat(irq).isFalse();
        assertThat(out.size()).isZero();
    }

    @Test
    void loopbackMirrorsModemControlIntoModemStatus() {
        wr(MCR, 0x10 | 0x0f);
        assertThat(rd(MSR) & 0xf0).isEqualTo(0xf0);
        wr(MCR, 0x10);
        assertThat(rd(MSR)).isEqualTo(0x0f); // all four deltas (RI trailing edge), no lines
        wr(MCR, 0);
        assertThat(rd(MSR) & 0xf0).isEqualTo(0xB0);
    }

    @Test
    void withoutFifoOnlyOneByteIsVisibleAndLoopbackOverruns() {
        wr(MCR, 0x10);
        wr(THR, 'a');
        wr(THR, 'b');
        assertThat(rd(LSR) & 0x03).isEqualTo(0x03);
        assertThat(rd(RBR)).isEqualTo('a');
        assertThat(rd(LSR) & 0x01).isZero();
    }

    @Test
    void fifoClearDiscardsOnlyWhatTheGuestCouldSee() {
        wr(FCR, 0x01);
        uart.receive(new byte[20], 0, 20);
        uart.offer((byte) 'z');
        wr(FCR, 0x01 | 0x02);
        assertThat(uart.state().input()).hasSize(5);
        assertThat(rd(IIR) & 0xC0).isEqualTo(0xC0);
        wr(FCR, 0x00); // changing FIFO enable resets the FIFO
        assertThat(rd(IIR) & 0xC0).isZero();
        assertThat(uart.state().input()).isEmpty();
    }

    @Test
    void unknownOffsetsAndWideAccessesAreHarmless() {
        assertThat(uart.read(0x80, 4)).isZero();
        uart.write(0xff, 1, 0x12);
        uart.write(SCR, 4, 0x1234_5678L);
        assertThat(uart.read(SCR, 8)).isEqualTo(0x78);
        uart.write(LSR, 1, 0);
        assertThat(rd(LSR)).isEqualTo(0x60);
    }

    @Test
    void stateRoundTripKeepsInputAndInterrupt() {
        wr(FCR, 0x41);
        wr(IER, 0x03);
        wr(LCR, 0x03);
        wr(SCR, 9);
        uart.receive("abc".getBytes(), 0, 3);
        Uart16550State saved = uart.state();

        boolean[] line = new boolean[1];
        Uart16550Device copy = new Uart16550Device("copy", l -> line[0] = l, ConsoleSink.DISCARD);
        copy.restore(saved);
        assertThat(copy.state()).isEqualTo(saved);
        assertThat(line[0]).isTrue();
        assertThat(copy.read(RBR, 1)).isEqualTo('a');
        assertThat(copy.read(IIR, 1)).isEqualTo(0xCC);
    }

    @Test
    void bufferedSinkWritesPerLineAndOnFlush() {
        ByteArrayOutputStream host = new ByteArrayOutputStream();
        BufferedConsoleSink sink = new BufferedConsoleSink(host, 8);
        for (byte b : "ab\ncd".getBytes()) {
            sink.write(b);
        }
        assertThat(host.toString()).isEqualTo("ab\n");
        sink.flush();
        assertThat(host.toString()).isEqualTo("ab\ncd");
        for (byte b : "0123456789".getBytes()) {
            sink.write(b);
        }
        assertThat(host.toString()).isEqualTo("ab\ncd01234567");
        assertThat(sink.error()).isEmpty();
    }
}
