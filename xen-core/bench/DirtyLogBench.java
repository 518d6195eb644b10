// SPDX-License-Identifier: Apache-2.0
import dev.domus.xen.memory.DirtyLog;
import dev.domus.xen.memory.GuestMemory;

/**
 * Cost of the guest-RAM store path with dirty logging off and on: 8-byte stores over a 64 MiB working set of a
 * 256 MiB guest (stride 72 bytes so each page sees ~57 stores, like a busy guest), alternating rounds, medians.
 * With logging on, the log is drained every round as a migration pass would. Prints ns per store and the ratio.
 *   xen-core/bench/dirty-log [rounds]
 */
public class DirtyLogBench {
    static final long WORKING_SET = 64L << 20;
    static final int STORES = 50_000_000;

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        try (GuestMemory ram = GuestMemory.allocate(0x8000_0000L, 256L << 20)) {
            DirtyLog log = ram.dirtyLog();
            long sink = 0;
            double[] off = new double[rounds];
            double[] on = new double[rounds];
            for (int warm = 0; warm < 3; warm++) {
                log.setEnabled(false);
                sink += run(ram);
                log.setEnabled(true);
                sink += run(ram);
            }
            long dirtyPages = 0;
            for (int r = 0; r < rounds; r++) {
                log.setEnabled(false);
                long t0 = System.nanoTime();
                sink += run(ram);
                off[r] = (System.nanoTime() - t0) / (double) STORES;
                log.setEnabled(true);
                t0 = System.nanoTime();
                sink += run(ram);
                on[r] = (System.nanoTime() - t0) / (double) STORES;
                dirtyPages = 0;
                for (int w = 0; w < log.words(); w++) {
                    dirtyPages += Long.bitCount(log.fetchAndClear(w));
                }
            }
            log.setEnabled(false);
            java.util.Arrays.sort(off);
            java.util.Arrays.sort(on);
            double mOff = off[rounds / 2];
            double mOn = on[rounds / 2];
            System.out.printf("store path, %d x 8-byte stores over %d MiB, median of %d rounds%n", STORES,
                    WORKING_SET >> 20, rounds);
            System.out.printf("  dirty log off: %.2f ns/store%n", mOff);
            System.out.printf("  dirty log on : %.2f ns/store (%d dirty pages per round)%n", mOn, dirtyPages);
            System.out.printf("  on/off ratio : %.2f%n", mOn / mOff);
            if (sink == 42) {
                System.out.println();
            }
        }
    }

    static long run(GuestMemory ram) {
        long off = 0;
        for (int i = 0; i < STORES; i++) {
            ram.storeLong(off, i);
            off += 72;
            if (off >= WORKING_SET - 8) {
                off -= WORKING_SET - 8;
            }
        }
        return off;
    }
}
