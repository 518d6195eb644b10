// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware;

import dev.domus.xen.cpu.Hart;

/** What the SBI implementation needs from the machine it serves: harts, their HSM states, console and power. */
public interface SbiPlatform {
    int hartCount();

    Hart hart(int id);

    /** HSM state of a hart ({@link Sbi#HSM_STARTED} ...). */
    int hsmState(int id);

    /** Starts a stopped hart at {@code addr} in S-mode with a0 = hartid, a1 = opaque; false if not stopped. */
    boolean hsmStart(int id, long addr, long opaque);

    /** Marks the calling hart stopped; its vCPU thread parks until started again. */
    void hsmStop(Hart self);

    /** Marks the calling hart suspended (retentive): it resumes like WFI on any enabled pending interrupt. */
    void hsmSuspend(Hart self);

    /** Bytes for the guest console. */
    void consoleWrite(byte[] data, int off, int len);

    /** One byte of console input, or -1 when none is waiting. */
    int consoleRead();

    /** Guest requested shutdown (type 0), cold (1) or warm (2) reboot; reason 1 = system failure. */
    void systemReset(int type, int reason);

    /** Current mtime. */
    long mtime();
}
