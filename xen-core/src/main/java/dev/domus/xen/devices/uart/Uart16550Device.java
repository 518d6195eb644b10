// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.uart;

import dev.domus.xen.bus.MmioDevice;
import dev.domus.xen.devices.irq.IrqLine;

/**
 * A National Semiconductor 16550A UART with 8-bit registers at consecutive offsets (reg-shift 0), as Linux's 8250
 * driver expects for compatible "ns16550a".
 *
 * <table>
 *   <caption>Registers</caption>
 *   <tr><th>offset</th><th>read</th><th>write</th></tr>
 *   <tr><td>0</td><td>RBR (DLAB=0) / DLL</td><td>THR (DLAB=0) / DLL</td></tr>
 *   <tr><td>1</td><td>IER (DLAB=0) / DLM</td><td>IER / DLM</td></tr>
 *   <tr><td>2</td><td>IIR</td><td>FCR</td></tr>
 *   <tr><td>3..7</td><td>LCR, MCR, LSR, MSR, SCR</td><td>LCR, MCR, (ignored), (ignored), SCR</td></tr>
 * </table>
 *
 * <p><b>Transmit</b> is instantaneous: a THR write hands the byte to the {@link ConsoleSink} (or, in loopback
 * mode, to the receiver) and the transmitter is empty again at once, so LSR.THRE and LSR.TEMT always read as set.
 * <b>Receive</b> reads from a bounded input queue ({@value #INPUT_CAPACITY} bytes) filled by the host with
 * {@link #offer(byte)} / {@link #receive(byte[], int, int)}, which never block and return how much was accepted;
 * the first 16 queued bytes (1 with the FIFO disabled) are what the guest sees as its RX FIFO. The queue
 * back-pressures the host instead of overrunning; only loopback writes into a full FIFO set LSR.OE.
 *
 * <p><b>Interrupts</b> (IIR, highest priority first): line status (overrun, with IER.ELSI), received data (IER.ERBFI;
 * "data available" when the FIFO holds at least the trigger level, otherwise "character timeout" at once), THR
 * empty (IER.ETBEI), modem status (IER.EDSSI, a delta bit in MSR). The THRE interrupt is raised by every THR write
 * (the byte leaves at once) and when IER.ETBEI goes from 0 to 1 while THR is empty, which Linux relies on to
 * start transmission and to probe for THRE bugs; it is cleared by reading IIR while it is the reported cause, by
 * clearing IER.ETBEI, or by the next THR write. The IRQ line is high while IIR reports any cause; MCR.OUT2 does
 * not gate it (as on QEMU's virt machine). Reading LSR clears OE; reading MSR clears its delta bits. Clearing the
 * RX FIFO through FCR discards the bytes the guest could see in it (up to 16).
 *
 * <p>Wider accesses act on the single register at their offset and return it zero-extended. All methods are
 * synchronized: registers are accessed from vCPU threads and the input queue from a host thread.
 */
public final class Uart16550Device implements MmioDevice {
    /** Guest-physical base of the console UART on the virt machine. */
    public static final long CONSOLE_BASE = 0x1000_0000L;
    /** Guest-physical base of the Domus control-channel UART. */
    public static final long CONTROL_BASE = 0x1000_0100L;
    /** PLIC source of the console UART. */
    public static final int CONSOLE_IRQ = 10;
    /** PLIC source of the control-channel UART. */
    public static final int CONTROL_IRQ = 12;
    /** Window size. */
    public static final long SIZE = 0x100;
    /** Input clock advertised in the device tree (divisor 1 = 230400 baud). */
    public static final int CLOCK_HZ = 3_686_400;
    /** Capacity of the host-to-guest input queue in bytes. */
    public static final int INPUT_CAPACITY = 4096;

    static final int FIFO_SIZE = 16;

    static final int IER_ERBFI = 0x01;
    static final int IER_ETBEI = 0x02;
    static final int IER_ELSI = 0x04;
    static final int IER_EDSSI = 0x08;

    static final int IIR_NONE = 0x01;
    static final int IIR_MODEM = 0x00;
    static final int IIR_THRE = 0x02;
    static final int IIR_RX = 0x04;
    static final int IIR_LINE = 0x06;
    static final int IIR_TIMEOUT = 0x0C;
    static final int IIR_FIFO = 0xC0;

    static final int FCR_ENABLE = 0x01;
    static final int FCR_CLEAR_RX = 0x02;
    static final int FCR_TRIGGER = 0xC0;

    static final int LCR_DLAB = 0x80;

    static final int MCR_DTR = 0x01;
    static final int MCR_RTS = 0x02;
    static final int MCR_OUT1 = 0x04;
    static final int MCR_OUT2 = 0x08;
    static final int MCR_LOOP = 0x10;

    static final int LSR_DR = 0x01;
    static final int LSR_OE = 0x02;
    static final int LSR_THRE = 0x20;
    static final int LSR_TEMT = 0x40;

    static final int MSR_CTS = 0x10;
    static final int MSR_DSR = 0x20;
    static final int MSR_RI = 0x40;
    static final int MSR_DCD = 0x80;

    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};

    private final String name;
    private final IrqLine irq;
    private final ConsoleSink sink;

    private final byte[] input = new byte[INPUT_CAPACITY];
    private int head;
    private int count;

    private int ier;
    private int lcr;
    private int mcr;
    private int fcr;
    private int scr;
    private int divisor;
    private boolean overrun;
    private int msrDelta;
    private boolean thrInterrupt;
    private boolean irqLevel;

    /** A UART named {@code name} (for logs) raising {@code irq} and transmitting to {@code sink}. */
    public Uart16550Device(String name, IrqLine irq, ConsoleSink sink) {
        this.name = name;
        this.irq = irq;
        this.sink = sink;
    }

    @Override
    public long size() {
        return SIZE;
    }

    @Override
    public String name() {
        return name;
    }

    /** Queues one byte of host input; false when the queue is full. Never blocks. */
    public synchronized boolean offer(byte b) {
        if (count == INPUT_CAPACITY) {
            return false;
        }
        input[(head + count) % INPUT_CAPACITY] = b;
        count++;
        updateIrq();
        return true;
    }

    /** Queues as many of {@code len} bytes of host input as fit and returns how many were accepted. */
    public synchronized int receive(byte[] data, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, data.length);
        int n = Math.min(len, INPUT_CAPACITY - count);
        for (int i = 0; i < n; i++) {
            input[(head + count + i) % INPUT_CAPACITY] = data[off + i];
        }
        count += n;
        if (n > 0) {
            updateIrq();
        }
        return n;
    }

    /** Free space in the input queue, for host-side flow control. */
    public synchronized int inputSpace() {
        return INPUT_CAPACITY - count;
    }

    @Override
    public synchronized long read(long offset, int width) {
        int v = switch ((int) offset) {
            case 0 -> (lcr & LCR_DLAB) != 0 ? divisor & 0xff : readRbr();
            case 1 -> (lcr & LCR_DLAB) != 0 ? (divisor >>> 8) & 0xff : ier;
            case 2 -> readIir();
            case 3 -> lcr;
            case 4 -> mcr;
            case 5 -> readLsr();
            case 6 -> readMsr();
            case 7 -> scr;
            default -> 0;
        };
        return v & 0xffL;
    }

    @Override
    public synchronized void write(long offset, int width, long value) {
        int v = (int) value & 0xff;
        switch ((int) offset) {
            case 0 -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0xff00) | v;
                } else {
                    transmit(v);
                }
            }
            case 1 -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0x00ff) | (v << 8);
                } else {
                    writeIer(v);
                }
            }
            case 2 -> writeFcr(v);
            case 3 -> lcr = v;
            case 4 -> writeMcr(v);
            case 7 -> scr = v;
            default -> {
                // LSR and MSR are read-only; the rest of the window is reserved.
            }
        }
        updateIrq();
    }

    private int fifoCapacity() {
        return (fcr & FCR_ENABLE) != 0 ? FIFO_SIZE : 1;
    }

    private int fifoCount() {
        return Math.min(count, fifoCapacity());
    }

    private int readRbr() {
        if (count == 0) {
            return 0;
        }
        int b = input[head] & 0xff;
        head = (head + 1) % INPUT_CAPACITY;
        count--;
        updateIrq();
        return b;
    }

    private void transmit(int b) {
        if ((mcr & MCR_LOOP) != 0) {
            if (fifoCount() < fifoCapacity() && count < INPUT_CAPACITY) {
                input[(head + count) % INPUT_CAPACITY] = (byte) b;
                count++;
            } else {
                overrun = true;
            }
        } else {
            sink.write(b);
        }
        // The byte left at once: THR is empty again and says so.
        thrInterrupt = true;
    }

    private void writeIer(int v) {
        int old = ier;
        ier = v & 0x0f;
        if ((ier & IER_ETBEI) == 0) {
            thrInterrupt = false;
        } else if ((old & IER_ETBEI) == 0) {
            thrInterrupt = true;
        }
    }

    private void writeFcr(int v) {
        if (((v ^ fcr) & FCR_ENABLE) != 0) {
            v |= FCR_CLEAR_RX;
        }
        if ((v & FCR_CLEAR_RX) != 0) {
            int drop = fifoCount();
            head = (head + drop) % INPUT_CAPACITY;
            count -= drop;
        }
        // Clearing the TX FIFO has nothing to do: the transmitter is always empty.
        fcr = v & (FCR_ENABLE | FCR_TRIGGER);
        if ((fcr & FCR_ENABLE) == 0) {
            fcr = 0;
        }
    }

    private void writeMcr(int v) {
        int before = modemLines();
        mcr = v & 0x1f;
        int after = modemLines();
        int changed = before ^ after;
        if ((changed & MSR_CTS) != 0) {
            msrDelta |= 0x01;
        }
        if ((changed & MSR_DSR) != 0) {
            msrDelta |= 0x02;
        }
        if ((before & MSR_RI) != 0 && (after & MSR_RI) == 0) {
            msrDelta |= 0x04;
        }
        if ((changed & MSR_DCD) != 0) {
            msrDelta |= 0x08;
        }
    }

    /** MSR bits 7:4: the loopback image of MCR, or a connected, ready line. */
    private int modemLines() {
        if ((mcr & MCR_LOOP) == 0) {
            return MSR_CTS | MSR_DSR | MSR_DCD;
        }
        int lines = 0;
        if ((mcr & MCR_RTS) != 0) {
            lines |= MSR_CTS;
        }
        if ((mcr & MCR_DTR) != 0) {
            lines |= MSR_DSR;
        }
        if ((mcr & MCR_OUT1) != 0) {
            lines |= MSR_RI;
        }
        if ((mcr & MCR_OUT2) != 0) {
            lines |= MSR_DCD;
        }
        return lines;
    }

    private int readLsr() {
        int v = lsr();
        overrun = false;
        updateIrq();
        return v;
    }

    private int lsr() {
        return (count > 0 ? LSR_DR : 0) | (overrun ? LSR_OE : 0) | LSR_THRE | LSR_TEMT;
    }

    private int readMsr() {
        int v = modemLines() | msrDelta;
        msrDelta = 0;
        updateIrq();
        return v;
    }

    private int readIir() {
        int cause = cause();
        if (cause == IIR_THRE) {
            thrInterrupt = false;
            updateIrq();
        }
        return cause | ((fcr & FCR_ENABLE) != 0 ? IIR_FIFO : 0);
    }

    /** The highest-priority pending interrupt as an IIR identification (IIR_NONE when none). */
    private int cause() {
        if ((ier & IER_ELSI) != 0 && overrun) {
            return IIR_LINE;
        }
        if ((ier & IER_ERBFI) != 0 && count > 0) {
            boolean fifo = (fcr & FCR_ENABLE) != 0;
            return !fifo || fifoCount() >= TRIGGER_LEVELS[(fcr & FCR_TRIGGER) >>> 6] ? IIR_RX : IIR_TIMEOUT;
        }
        if ((ier & IER_ETBEI) != 0 && thrInterrupt) {
            return IIR_THRE;
        }
        if ((ier & IER_EDSSI) != 0 && msrDelta != 0) {
            return IIR_MODEM;
        }
        return IIR_NONE;
    }

    private void updateIrq() {
        boolean level = cause() != IIR_NONE;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    /** Current state for a snapshot. */
    public synchronized Uart16550State state() {
        byte[] in = new byte[count];
        for (int i = 0; i < count; i++) {
            in[i] = input[(head + i) % INPUT_CAPACITY];
        }
        return new Uart16550State(ier, lcr, mcr, fcr, scr, divisor, overrun, msrDelta, thrInterrupt, in);
    }

    /** Restores a snapshot and re-drives the interrupt line. */
    public synchronized void restore(Uart16550State s) {
        byte[] in = s.input();
        ier = s.ier() & 0x0f;
        lcr = s.lcr() & 0xff;
        mcr = s.mcr() & 0x1f;
        fcr = s.fcr() & (FCR_ENABLE | FCR_TRIGGER);
        if ((fcr & FCR_ENABLE) == 0) {
            fcr = 0;
        }
        scr = s.scr() & 0xff;
        divisor = s.divisor() & 0xffff;
        overrun = s.overrun();
        msrDelta = s.msrDelta() & 0x0f;
        thrInterrupt = s.thrInterrupt();
        head = 0;
        count = in.length;
        System.arraycopy(in, 0, input, 0, in.length);
        irqLevel = cause() != IIR_NONE;
        irq.set(irqLevel);
    }
}
