// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.testing;

import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.Machine;
import dev.domus.xen.memory.DirtyLog;
import dev.domus.xen.memory.GuestMemory;
import java.time.Duration;
import java.util.Optional;

/**
 * Base of the stand-in machines that unit tests of one class (checkpoint, migration source) drive: a machine that
 * is only its guest RAM. Memory and dirty log are the RAM's; console input and shutdown requests are ignored, it
 * never exits on its own and closing it does nothing (the test owns the RAM). Subclasses add the vCPU behaviour
 * and the state the test needs.
 */
public abstract class RamMachine implements Machine {
    /** The guest RAM, owned by the test. */
    protected final GuestMemory ram;

    protected RamMachine(GuestMemory ram) {
        this.ram = ram;
    }

    @Override
    public DirtyLog dirtyLog() {
        return ram.dirtyLog();
    }

    @Override
    public GuestMemory memory() {
        return ram;
    }

    @Override
    public void consoleInput(byte[] data) {
        // no console
    }

    @Override
    public void requestShutdown(boolean reboot) {
        // a stand-in guest does not react to ACPI-like requests
    }

    @Override
    public Optional<ExitReason> awaitExit(Duration timeout) {
        return Optional.empty();
    }

    @Override
    public void close() {
        // the test owns the RAM
    }
}
