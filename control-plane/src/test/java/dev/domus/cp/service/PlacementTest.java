// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PlacementTest {
    static final UUID A = new UUID(0, 1);
    static final UUID B = new UUID(0, 2);
    static final UUID C = new UUID(0, 3);
    static final UUID D = new UUID(0, 4);

    static Placement.Candidate host(UUID id, String region, boolean up, long allocMem, int allocCpu) {
        return new Placement.Candidate(id, region, up, 16, 32768, 1000, allocCpu, allocMem, 0);
    }

    final List<Placement.Candidate> hosts = List.of(
            host(A, "r1", true, 8192, 4),    // a quarter used
            host(B, "r1", true, 24576, 12),  // three quarters used
            host(C, "r1", false, 0, 0),      // cordoned: never
            host(D, "r2", true, 0, 0));      // other region: never

    @Test
    void spreadPrefersTheEmptiest() {
        var r = new Placement.Request("r1", 2, 2048, 10);
        assertThat(Placement.rank(hosts, r, Placement.Strategy.SPREAD, 0.7)).extracting(Placement.Candidate::id)
                .containsExactly(A, B);
    }

    @Test
    void packPrefersTheFullestThatFits() {
        var r = new Placement.Request("r1", 2, 2048, 10);
        assertThat(Placement.rank(hosts, r, Placement.Strategy.PACK, 0.7)).extracting(Placement.Candidate::id)
                .containsExactly(B, A);
    }

    @Test
    void capacityFilters() {
        // B has 8 GiB free, A 24 GiB: a 16 GiB server only fits on A.
        var big = new Placement.Request("r1", 2, 16384, 10);
        assertThat(Placement.rank(hosts, big, Placement.Strategy.PACK, 0.7)).extracting(Placement.Candidate::id)
                .containsExactly(A);
        var tooManyCpus = new Placement.Request("r1", 13, 1024, 10);
        assertThat(Placement.rank(hosts, tooManyCpus, Placement.Strategy.SPREAD, 0.7)).isEmpty();
        var diskTooBig = new Placement.Request("r1", 1, 1024, 1001);
        assertThat(Placement.rank(hosts, diskTooBig, Placement.Strategy.SPREAD, 0.7)).isEmpty();
    }
}
