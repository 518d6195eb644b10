// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.memory.GuestMemory;

/**
 * A validated machine image a machine can be rebuilt from: a snapshot file, or the pages and state received by an
 * incoming live migration.
 */
public interface MachineImage {
    /** The machine state (everything but RAM). */
    MachineState state();

    /**
     * Guest RAM with the image's content; the caller owns (and closes) it from now on. Called at most once.
     *
     * @throws SnapshotException when the sizes do not match or the content is damaged
     */
    GuestMemory takeMemory(long base, long size);
}
