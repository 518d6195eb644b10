// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

/** Callbacks from a running machine; invoked on machine threads, so implementations must not block. */
public interface MachineListener {
    /** Bytes the guest wrote to its console (UART 0 / SBI console). */
    default void consoleOutput(byte[] data, int off, int len) { }

    /** The machine stopped; called exactly once. */
    default void exited(ExitReason reason) { }
}
