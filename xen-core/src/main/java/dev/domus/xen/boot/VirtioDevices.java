// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.api.DiskConfig;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.NicConfig;
import dev.domus.xen.bus.Bus;
import dev.domus.xen.devices.irq.Plic;
import dev.domus.xen.devices.uart.ConsoleSink;
import dev.domus.xen.devices.virtio.blk.BlkDevice;
import dev.domus.xen.devices.virtio.console.ConsoleDevice;
import dev.domus.xen.devices.virtio.net.HostLinks;
import dev.domus.xen.devices.virtio.net.NetBackend;
import dev.domus.xen.devices.virtio.net.NetDevice;
import dev.domus.xen.devices.virtio.net.TapBackend;
import dev.domus.xen.devices.virtio.rng.RngDevice;
import dev.domus.xen.devices.virtio.transport.VirtioDevice;
import dev.domus.xen.devices.virtio.transport.VirtioMmio;
import dev.domus.xen.firmware.fdt.VirtioSlot;
import dev.domus.xen.memory.GuestMemory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * The virtio devices of a virt machine and their slots: disks first (slot 0 = vda, in configuration order, which is
 * the order Linux probes and names them), then NICs, then the console and the RNG, which every Linux machine has.
 */
final class VirtioDevices implements AutoCloseable {
    /** Opens the host side of a NIC: the tap in the domain runner, a fake in tests. */
    @FunctionalInterface
    interface Backends {
        NetBackend open(NicConfig nic) throws IOException;

        /**
         * A tap named after the vif in the calling process's network namespace (the domain runner's), attached to
         * the configured bridge; closed again if the attach fails.
         */
        Backends TAP = nic -> {
            TapBackend tap = TapBackend.open(nic.ifname());
            try {
                if (nic.bridge().isPresent()) {
                    HostLinks.attachToBridge(nic.ifname(), nic.bridge().get());
                }
            } catch (IOException | RuntimeException e) {
                tap.close();
                throw e;
            }
            return tap;
        };
    }

    private final List<VirtioSlot> slots = new ArrayList<>();
    private final List<VirtioDevice> devices = new ArrayList<>();
    private final List<VirtioMmio> transports = new ArrayList<>();
    private ConsoleDevice console;

    private VirtioDevices() {
    }

    /** Opens every backend and maps the transports; on failure releases what was opened and throws. */
    static VirtioDevices assemble(MachineConfig config, GuestMemory ram, Bus bus, Plic plic, ConsoleSink consoleOut,
                                  Backends backends) {
        VirtioDevices v = new VirtioDevices();
        try {
            for (DiskConfig d : config.disks()) {
                if (!Files.isRegularFile(d.image())) {
                    throw new BootException("disk " + d.target() + ": image " + d.image()
                            + (Files.exists(d.image()) ? " is not a regular file" : " does not exist"));
                }
                try {
                    v.add(BlkDevice.open(d.target(), d.image(), d.readOnly()), ram, bus, plic);
                } catch (IOException e) {
                    throw new BootException("disk " + d.target() + ": cannot open " + d.image() + ": "
                            + e.getMessage(), e);
                }
            }
            for (NicConfig nic : config.nics()) {
                NetBackend backend;
                try {
                    backend = backends.open(nic);
                } catch (IOException e) {
                    throw new BootException("vif " + nic.ifname() + ": " + e.getMessage(), e);
                }
                v.add(new NetDevice(nic.macBytes(), backend), ram, bus, plic);
            }
            v.console = new ConsoleDevice(consoleOut);
            v.add(v.console, ram, bus, plic);
            v.add(new RngDevice(), ram, bus, plic);
            return v;
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    private void add(VirtioDevice device, GuestMemory ram, Bus bus, Plic plic) {
        devices.add(device);
        VirtioSlot slot = VirtioSlot.standard(slots.size());
        VirtioMmio t = new VirtioMmio(device, ram, plic.line(slot.irq()));
        transports.add(t);
        bus.map(slot.base(), t);
        slots.add(slot);
    }

    /** The virtio-blk devices in slot order (vda first). */
    List<BlkDevice> disks() {
        List<BlkDevice> l = new ArrayList<>();
        for (VirtioDevice d : devices) {
            if (d instanceof BlkDevice b) {
                l.add(b);
            }
        }
        return List.copyOf(l);
    }

    List<VirtioSlot> slots() {
        return List.copyOf(slots);
    }

    ConsoleDevice console() {
        return console;
    }

    /** Every slot's transport and device state, in slot order (machine paused). */
    List<dev.domus.xen.snapshot.VirtioSlotState> capture() {
        List<dev.domus.xen.snapshot.VirtioSlotState> out = new ArrayList<>();
        for (VirtioMmio t : transports) {
            byte[] extra = t.device() instanceof ConsoleDevice c ? c.state().pendingInput() : new byte[0];
            out.add(new dev.domus.xen.snapshot.VirtioSlotState(t.device().deviceId(), t.state(), extra));
        }
        return out;
    }

    /** Restores {@link #capture()} output into freshly assembled devices; refuses a slot holding another device. */
    void restore(List<dev.domus.xen.snapshot.VirtioSlotState> states) {
        if (states.size() != transports.size()) {
            throw new BootException("snapshot has " + states.size() + " virtio slots, machine has "
                    + transports.size());
        }
        for (int i = 0; i < states.size(); i++) {
            var s = states.get(i);
            VirtioMmio t = transports.get(i);
            if (s.deviceId() != t.device().deviceId()) {
                throw new BootException("virtio slot " + i + " holds device id " + t.device().deviceId()
                        + " but the snapshot has device id " + s.deviceId());
            }
            try {
                t.restore(s.transport());
            } catch (IllegalArgumentException e) {
                throw new BootException("virtio slot " + i + ": " + e.getMessage(), e);
            }
            if (t.device() instanceof ConsoleDevice c) {
                c.restore(new dev.domus.xen.devices.virtio.console.ConsoleState(s.device()));
            }
        }
    }

    /**
     * {@link #restore}'s checks on scratch queues, changing nothing (see {@link VirtioMmio#rehearseRestore}); a
     * slot that does not fit only ends the rehearsal (the real restore then reports it).
     */
    void rehearse(List<dev.domus.xen.snapshot.VirtioSlotState> states) {
        if (states.size() != transports.size()) {
            return;
        }
        for (int i = 0; i < states.size(); i++) {
            var s = states.get(i);
            VirtioMmio t = transports.get(i);
            if (s.deviceId() != t.device().deviceId() || t.rehearseRestore(s.transport()).isPresent()) {
                return;
            }
            if (t.device() instanceof ConsoleDevice) {
                new dev.domus.xen.devices.virtio.console.ConsoleState(s.device()).pendingInput();
            }
        }
    }

    @Override
    public void close() {
        for (VirtioDevice d : devices) {
            d.close();
        }
        devices.clear();
    }
}
