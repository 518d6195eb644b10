// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.bus;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The guest-physical address map of MMIO devices. Mappings are fixed before the machine starts; lookups are a
 * binary search over a sorted array so vCPU threads read it without locks.
 */
public final class Bus {
    /** One mapped window. */
    public record Mapping(long base, long size, MmioDevice device) {
        public Mapping {
            if (size <= 0) {
                throw new IllegalArgumentException("mapping size must be positive for " + device.name());
            }
        }

        boolean contains(long addr) {
            return Long.compareUnsigned(addr - base, size) < 0;
        }
    }

    private final List<Mapping> building = new ArrayList<>();
    private volatile Mapping[] mappings = new Mapping[0];
    private volatile long[] bases = new long[0];

    /** Maps a device at {@code base}; rejects overlaps with a message naming both devices. */
    public synchronized void map(long base, MmioDevice device) {
        Mapping m = new Mapping(base, device.size(), device);
        for (Mapping other : building) {
            boolean overlap = Long.compareUnsigned(base, other.base() + other.size()) < 0
                    && Long.compareUnsigned(other.base(), base + m.size()) < 0;
            if (overlap) {
                throw new IllegalArgumentException(String.format(
                        "device %s at 0x%x+0x%x overlaps %s at 0x%x+0x%x", device.name(), base, m.size(),
                        other.device().name(), other.base(), other.size()));
            }
        }
        building.add(m);
        building.sort(Comparator.comparingLong(Mapping::base));
        Mapping[] arr = building.toArray(new Mapping[0]);
        long[] b = new long[arr.length];
        for (int i = 0; i < arr.length; i++) {
            b[i] = arr[i].base();
        }
        bases = b;
        mappings = arr;
    }

    /** The mapping containing {@code addr}, or null when nothing is mapped there. */
    public Mapping find(long addr) {
        Mapping[] ms = mappings;
        long[] bs = bases;
        int lo = 0;
        int hi = bs.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(bs[mid], addr) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (hi < 0) {
            return null;
        }
        Mapping m = ms[hi];
        return m.contains(addr) ? m : null;
    }

    /** All mappings in address order (for the device tree and diagnostics). */
    public List<Mapping> mappings() {
        return List.of(mappings);
    }
}
