// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.cpu.HartState;

/**
 * One vCPU: its hart plus the firmware's view of it (SBI HSM state and a pending {@code hart_start}).
 *
 * @param hsmState    SBI HSM state (0 started, 1 stopped, 2 start pending, 4 suspended)
 * @param startAddr   start address of a pending hart_start
 * @param startOpaque opaque argument of a pending hart_start
 */
public record VcpuState(HartState hart, int hsmState, long startAddr, long startOpaque) {
    public VcpuState {
        if (hart == null) {
            throw new IllegalArgumentException("vCPU state needs a hart");
        }
        if (hsmState != 0 && hsmState != 1 && hsmState != 2 && hsmState != 4) {
            throw new IllegalArgumentException("HSM state must be 0, 1, 2 or 4, got " + hsmState);
        }
    }
}
