// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * The pure part of the scheduler: filters (region, schedulable state, free capacity) and weights (spread or pack)
 * that rank candidate hosts for a request. The transactional reservation is in {@link Scheduler}.
 */
public final class Placement {
    /** Weighing strategy. */
    public enum Strategy { SPREAD, PACK }

    /** A host as the scheduler sees it. */
    public record Candidate(UUID id, String region, boolean schedulable, int capVcpus, long capMemoryMb,
                            long capDiskGb, int allocVcpus, long allocMemoryMb, long allocDiskGb) {
    }

    /** What a server needs. */
    public record Request(String region, int vcpus, long memoryMb, long diskGb) {
    }

    private Placement() {
    }

    /** Candidates that pass every filter, best first. */
    public static List<Candidate> rank(List<Candidate> hosts, Request r, Strategy strategy, double memoryWeight) {
        List<Candidate> fit = new ArrayList<>();
        for (Candidate h : hosts) {
            if (h.schedulable() && h.region().equals(r.region())
                    && h.allocVcpus() + r.vcpus() <= h.capVcpus()
                    && h.allocMemoryMb() + r.memoryMb() <= h.capMemoryMb()
                    && h.allocDiskGb() + r.diskGb() <= h.capDiskGb()) {
                fit.add(h);
            }
        }
        Comparator<Candidate> byFree = Comparator.comparingDouble(h -> freeAfter(h, r, memoryWeight));
        // Ties go to the lower id so placement is deterministic.
        fit.sort((strategy == Strategy.SPREAD ? byFree.reversed() : byFree).thenComparing(Candidate::id));
        return fit;
    }

    /** Weighted free fraction of a host after placing the request (0 = full, 1 = empty). */
    static double freeAfter(Candidate h, Request r, double memoryWeight) {
        double mem = 1.0 - (double) (h.allocMemoryMb() + r.memoryMb()) / h.capMemoryMb();
        double cpu = 1.0 - (double) (h.allocVcpus() + r.vcpus()) / h.capVcpus();
        return memoryWeight * mem + (1.0 - memoryWeight) * cpu;
    }
}
