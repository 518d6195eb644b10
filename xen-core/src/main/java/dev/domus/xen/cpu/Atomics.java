// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import dev.domus.xen.memory.GuestMemory;

/**
 * The A extension. AMOs are compare-and-swap loops on guest RAM, so they are atomic against every other hart's AMO,
 * LR/SC and page-table update. SC succeeds when the reserved word still holds the value LR read (the usual
 * emulator approximation of a reservation set); all atomics are sequentially consistent, which satisfies any
 * aq/rl combination.
 */
final class Atomics {
    private Atomics() {
    }

    static void execute(Hart h, int insn, int rd, int rs1, int rs2) {
        boolean dword = ((insn >>> 12) & 7) == 3;
        int funct5 = insn >>> 27;
        long va = h.x[rs1];
        GuestMemory ram = h.ram;
        switch (funct5) {
            case 0b00010 -> { // LR
                long pa = h.atomicAddress(va, dword ? 8 : 4, true);
                long off = pa - h.ramBase;
                long v = dword ? ram.loadLongVolatile(off) : ram.loadIntVolatile(off);
                h.reservation = pa;
                h.reservationValue = v;
                if (rd != 0) {
                    h.x[rd] = v;
                }
            }
            case 0b00011 -> { // SC
                long pa = h.atomicAddress(va, dword ? 8 : 4, false);
                long off = pa - h.ramBase;
                boolean ok = false;
                if (h.reservation == pa) {
                    if (dword) {
                        ok = ram.compareAndExchangeLong(off, h.reservationValue, h.x[rs2]) == h.reservationValue;
                    } else {
                        int expect = (int) h.reservationValue;
                        ok = ram.compareAndExchangeInt(off, expect, (int) h.x[rs2]) == expect;
                    }
                }
                h.reservation = -1;
                if (rd != 0) {
                    h.x[rd] = ok ? 0 : 1;
                }
            }
            default -> {
                long pa = h.atomicAddress(va, dword ? 8 : 4, false);
                long off = pa - h.ramBase;
                long src = h.x[rs2];
                long old;
                if (dword) {
                    long cur = ram.loadLongVolatile(off);
                    while (true) {
                        long nv = apply(funct5, cur, src, true);
                        long w = ram.compareAndExchangeLong(off, cur, nv);
                        if (w == cur) {
                            break;
                        }
                        cur = w;
                    }
                    old = cur;
                } else {
                    int cur = ram.loadIntVolatile(off);
                    while (true) {
                        int nv = (int) apply(funct5, cur, (int) src, false);
                        int w = ram.compareAndExchangeInt(off, cur, nv);
                        if (w == cur) {
                            break;
                        }
                        cur = w;
                    }
                    old = cur;
                }
                if (rd != 0) {
                    h.x[rd] = old;
                }
            }
        }
    }

    /** The AMO operation on sign-extended operands (32-bit forms pass sign-extended ints). */
    private static long apply(int funct5, long a, long b, boolean dword) {
        return switch (funct5) {
            case 0b00001 -> b;
            case 0b00000 -> a + b;
            case 0b00100 -> a ^ b;
            case 0b01100 -> a & b;
            case 0b01000 -> a | b;
            case 0b10000 -> Math.min(a, b);
            case 0b10100 -> Math.max(a, b);
            case 0b11000 -> dword ? (Long.compareUnsigned(a, b) < 0 ? a : b)
                    : (Integer.compareUnsigned((int) a, (int) b) < 0 ? a : b);
            default -> dword ? (Long.compareUnsigned(a, b) > 0 ? a : b)
                    : (Integer.compareUnsigned((int) a, (int) b) > 0 ? a : b);
        };
    }
}
