// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

import java.time.Duration;
import java.util.Optional;

/**
 * One running virtual machine: RAM, harts, devices and firmware. Created by
 * {@code dev.domus.xen.boot.Machines#create}; the domain runner owns exactly one.
 */
public interface Machine extends AutoCloseable {
    /** Lifecycle of the machine itself (the domain adds policy on top). */
    enum State { CREATED, RUNNING, PAUSED, STOPPED }

    /** Starts the boot hart; others wait for SBI HSM start. */
    void start();

    /** Stops all harts at an instruction boundary and freezes guest time. */
    void pause();

    /** Continues after {@link #pause()}. */
    void resume();

    State state();

    /** Feeds host keystrokes into the guest console. */
    void consoleInput(byte[] data);

    /** Asks the guest to power off or reboot itself (Domus control channel); the guest may ignore it. */
    void requestShutdown(boolean reboot);

    /** Stops the machine immediately; the exit reason becomes {@link ExitReason.Destroyed}. */
    void destroy();

    /**
     * Sends one command line to the guest on the Domus control channel (held until the guest's reader is there,
     * like {@link #requestShutdown}). Used to resume a guest restored from a template snapshot.
     */
    default void sendControlLine(String line) {
        throw new UnsupportedOperationException("this machine has no control channel");
    }

    /** Waits until the machine has stopped; returns the reason, or empty on timeout. */
    Optional<ExitReason> awaitExit(Duration timeout) throws InterruptedException;

    /**
     * Writes a snapshot of this machine (which must be paused) to {@code file} atomically, with the caller's
     * {@code domain} record stored alongside; returns the bytes written.
     *
     * @throws IllegalStateException when the machine is running
     */
    default long save(java.nio.file.Path file, byte[] domain) {
        throw new UnsupportedOperationException("this machine cannot be saved");
    }

    /** The per-page dirty log of guest RAM (live migration, checkpoints). */
    default dev.domus.xen.memory.DirtyLog dirtyLog() {
        throw new UnsupportedOperationException("this machine has no dirty log");
    }

    /** The state of every vCPU and device (machine paused), with the caller's opaque domain record. */
    default dev.domus.xen.snapshot.MachineState captureState(byte[] domain) {
        throw new UnsupportedOperationException("this machine cannot be saved");
    }

    /** Guest RAM (live migration reads pages from it while the guest runs). */
    default dev.domus.xen.memory.GuestMemory memory() {
        throw new UnsupportedOperationException("this machine exposes no RAM");
    }

    /** The virtio-blk disks in slot order (disk mirroring reads them and their write logs). */
    default java.util.List<dev.domus.xen.devices.virtio.blk.BlkDevice> disks() {
        return java.util.List.of();
    }

    /**
     * Starts the vCPU threads but keeps them parked as if {@link #pause()} had been called: a later
     * {@link #resume()} only wakes them (an incoming migration creates threads before, not inside, the downtime).
     */
    default void startPaused() {
        throw new UnsupportedOperationException("this machine cannot start paused");
    }

    /**
     * Replaces every vCPU's and device's state with {@code state} (RAM is not touched); only while the machine is
     * paused or not yet started. An incoming migration builds the machine early and applies the state it got last.
     *
     * @throws IllegalStateException when the machine runs
     * @throws RuntimeException      (a {@code BootException}) when the state does not fit this machine
     */
    default void restoreState(dev.domus.xen.snapshot.MachineState state) {
        throw new UnsupportedOperationException("this machine cannot be restored");
    }

    /**
     * Runs the code of {@link #restoreState} on {@code state} without the effects a later {@code restoreState}
     * would not undo (no virtio device is activated), so that the one restore inside a migration's downtime finds
     * its classes initialised and its call sites resolved. Only before the machine ever ran, and only while a real
     * {@code restoreState} follows: it leaves vCPU and device registers holding {@code state}. Best effort: a
     * machine that cannot rehearse does nothing.
     */
    default void rehearseRestore(dev.domus.xen.snapshot.MachineState state) {
    }

    /** Changes the host CPU cap (percent of one core over all vCPUs, 0 = none), e.g. to throttle a migration. */
    default void setCpuCap(int percent) {
        throw new UnsupportedOperationException("this machine cannot be throttled");
    }

    /** Point-in-time statistics. */
    MachineInfo info();

    @Override
    void close();
}
