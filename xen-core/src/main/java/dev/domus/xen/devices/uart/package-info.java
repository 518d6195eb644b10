// SPDX-License-Identifier: Apache-2.0
/**
 * The 16550A UART: the guest's serial console and the Domus host-to-guest control channel. The device owns the
 * register model and a bounded input queue; where output bytes go is a {@link dev.domus.xen.devices.uart.ConsoleSink}
 * chosen by whoever assembles the machine.
 */
package dev.domus.xen.devices.uart;
