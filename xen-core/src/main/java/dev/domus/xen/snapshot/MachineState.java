// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.snapshot;

import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.devices.irq.ClintState;
import dev.domus.xen.devices.irq.PlicState;
import dev.domus.xen.devices.rtc.GoldfishRtcState;
import dev.domus.xen.devices.uart.Uart16550State;
import java.util.List;

/**
 * Everything of a paused machine except RAM: what a snapshot's non-RAM sections hold.
 *
 * @param config  the machine configuration it was built from
 * @param domain  the domain layer's own record (its configuration), opaque here, at most 64 KiB
 * @param mtime   the 10 MHz platform clock when the machine was paused
 * @param vcpus   one per hart, in hart order
 * @param uarts   console UART then control UART
 * @param virtio  one per virtio-mmio slot, in slot order
 */
public record MachineState(MachineConfig config, byte[] domain, long mtime, List<VcpuState> vcpus, ClintState clint,
                           PlicState plic, List<Uart16550State> uarts, GoldfishRtcState rtc,
                           List<VirtioSlotState> virtio) {
    public static final int MAX_DOMAIN_BYTES = 64 * 1024;

    public MachineState {
        if (domain.length > MAX_DOMAIN_BYTES) {
            throw new IllegalArgumentException("domain record of " + domain.length + " bytes exceeds "
                    + MAX_DOMAIN_BYTES);
        }
        if (vcpus.size() != config.vcpus()) {
            throw new IllegalArgumentException("config has " + config.vcpus() + " vCPUs but the state has "
                    + vcpus.size());
        }
        if (clint.msip().length != config.vcpus()) {
            throw new IllegalArgumentException("CLINT state covers " + clint.msip().length + " harts, config has "
                    + config.vcpus());
        }
        if (plic.enables().length != 2 * config.vcpus()) {
            throw new IllegalArgumentException("PLIC state has " + plic.enables().length + " contexts, expected "
                    + 2 * config.vcpus());
        }
        if (uarts.size() != 2) {
            throw new IllegalArgumentException("expected 2 UART states, got " + uarts.size());
        }
        int expectedSlots = config.disks().size() + config.nics().size() + 2;
        if (virtio.size() != expectedSlots) {
            throw new IllegalArgumentException("config has " + expectedSlots + " virtio slots but the state has "
                    + virtio.size());
        }
        if (mtime < 0) {
            throw new IllegalArgumentException("mtime must not be negative, got " + mtime);
        }
        domain = domain.clone();
        vcpus = List.copyOf(vcpus);
        uarts = List.copyOf(uarts);
        virtio = List.copyOf(virtio);
    }

    @Override
    public byte[] domain() {
        return domain.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MachineState s && config.equals(s.config) && java.util.Arrays.equals(domain, s.domain)
                && mtime == s.mtime && vcpus.equals(s.vcpus) && clint.equals(s.clint) && plic.equals(s.plic)
                && uarts.equals(s.uarts) && rtc.equals(s.rtc) && virtio.equals(s.virtio);
    }

    @Override
    public int hashCode() {
        return config.hashCode() * 31 + Long.hashCode(mtime);
    }
}
