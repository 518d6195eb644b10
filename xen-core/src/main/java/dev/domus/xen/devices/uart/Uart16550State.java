// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.uart;

/**
 * Snapshot of a 16550A UART.
 *
 * @param ier          interrupt enable register (low 4 bits)
 * @param lcr          line control register (bit 7 = DLAB)
 * @param mcr          modem control register (low 5 bits)
 * @param fcr          FIFO control: bit 0 FIFO enable, bits 7:6 receive trigger level
 * @param scr          scratch register
 * @param divisor      divisor latch (DLM:DLL)
 * @param overrun      LSR overrun error latched and not yet read
 * @param msrDelta     modem status delta bits (MSR bits 3:0) not yet read
 * @param thrInterrupt "transmitter holding register empty" interrupt pending
 * @param input        received bytes not yet read by the guest, oldest first (the RX FIFO then the input queue)
 */
public record Uart16550State(int ier, int lcr, int mcr, int fcr, int scr, int divisor, boolean overrun,
                             int msrDelta, boolean thrInterrupt, byte[] input) {
    public Uart16550State {
        if (input.length > Uart16550Device.INPUT_CAPACITY) {
            throw new IllegalArgumentException("UART input of " + input.length + " bytes exceeds the queue capacity "
                    + Uart16550Device.INPUT_CAPACITY);
        }
        input = input.clone();
    }

    @Override
    public byte[] input() {
        return input.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Uart16550State s && ier == s.ier && lcr == s.lcr && mcr == s.mcr && fcr == s.fcr
                && scr == s.scr && divisor == s.divisor && overrun == s.overrun && msrDelta == s.msrDelta
                && thrInterrupt == s.thrInterrupt && java.util.Arrays.equals(input, s.input);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(ier, lcr, mcr, fcr, scr, divisor, overrun, msrDelta, thrInterrupt)
                * 31 + java.util.Arrays.hashCode(input);
    }

    @Override
    public String toString() {
        return "Uart16550State[ier=" + ier + ", lcr=" + lcr + ", mcr=" + mcr + ", fcr=" + fcr + ", scr=" + scr
                + ", divisor=" + divisor + ", overrun=" + overrun + ", msrDelta=" + msrDelta + ", thrInterrupt="
                + thrInterrupt + ", input=" + input.length + " bytes]";
    }
}
