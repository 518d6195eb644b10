// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.memory.GuestMemory;
import java.nio.file.Path;

/**
 * A validated snapshot file: its machine state, decoded, and the location of its RAM section, loaded on demand
 * into the new machine's memory (checked again while loading, in case the file changed since validation).
 */
public final class SnapshotImage implements MachineImage {
    private final Path file;
    private final MachineState state;
    private final Snapshots.Entry ram;
    private final long nonZeroPages;
    private final long fileSize;

    SnapshotImage(Path file, MachineState state, Snapshots.Entry ram, long nonZeroPages, long fileSize) {
        this.file = file;
        this.state = state;
        this.ram = ram;
        this.nonZeroPages = nonZeroPages;
        this.fileSize = fileSize;
    }

    public Path file() { return file; }

    @Override
    public MachineState state() { return state; }

    /** Pages stored in the file (the rest of RAM was zero). */
    public long nonZeroPages() { return nonZeroPages; }

    public long fileSize() { return fileSize; }

    /**
     * Copies the snapshot's RAM into {@code memory}, which must be fresh (all zero) and of the snapshot's size.
     *
     * @throws SnapshotException when the sizes differ or the RAM section no longer matches its checksum
     */
    public void loadRam(GuestMemory memory) {
        SnapshotReader.loadRam(file, ram, memory);
    }

    @Override
    public GuestMemory takeMemory(long base, long size) {
        GuestMemory m = GuestMemory.allocate(base, size);
        try {
            loadRam(m);
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }
}
