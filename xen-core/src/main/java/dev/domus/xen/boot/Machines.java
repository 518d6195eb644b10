// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineListener;

/** Placeholder for the machine factory; the CPU engine branch replaces this file when it is merged. */
public final class Machines {
    private Machines() { }

    /** Assembles a machine for {@code config}; not available until the CPU engine is merged. */
    public static Machine create(MachineConfig config, MachineListener listener) {
        throw new UnsupportedOperationException("CPU engine not merged yet");
    }
}
